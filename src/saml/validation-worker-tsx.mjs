// The validation worker's entry when jitprov runs from TypeScript (tsx, vitest): Node 20 does not
// apply `--import tsx` from execArgv to a worker's modules (nodejs/node#47747), so the worker
// registers tsx itself. Compiled builds start validation-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./validation-worker.ts');
