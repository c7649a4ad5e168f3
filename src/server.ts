import { failedToStart, runServer } from './start.js';

// The process entry: `npm start` (compiled, build/server/server.js) and `npm run dev` (TypeScript).
// What it starts is in start.ts, which src/cluster.ts also runs in each of its processes.
runServer().catch(failedToStart);
