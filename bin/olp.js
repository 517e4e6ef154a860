#!/usr/bin/env node
// The `olp` command: runs the TypeScript CLI through tsx, so the CLI and the Lambdas share one source tree.
import { register } from 'tsx/esm/api';

register();
await import('./olp.ts');
