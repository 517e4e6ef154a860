#!/usr/bin/env node
// The `olp` command: runs the TypeScript CLI through tsx, so the CLI and the Lambdas share one source tree.
import { register } from 'tsx/esm/api';

// The CLI's AWS clients talk only to local stand-ins; the SDK's notice about future Node versions is noise there.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./olp.ts');
