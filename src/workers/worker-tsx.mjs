// The worker entry when jitprov runs from TypeScript (tsx, vitest). Node 20 does not apply
// `--import tsx` from a worker's execArgv to the worker's own modules (nodejs/node#47747), so the
// worker registers tsx itself before it loads the TypeScript worker. Compiled builds start
// worker.js directly and never load this file.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
