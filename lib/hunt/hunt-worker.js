// A thread of `olp hunt` (see hunt-workers.ts): loads the TypeScript through tsx, as bin/olp.js does for the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./hunt-worker-thread.ts');
