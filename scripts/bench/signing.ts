import { Worker } from 'node:worker_threads';
import type { IdpKeyPair } from '../demo-idp/index.js';
import type { Person } from './people.js';

export type SignMode = 'assertion' | 'response-and-assertion';

export interface SignJob {
  person: Person;
  issuer: string;
  sign: SignMode;
}

export interface SignContext {
  key: IdpKeyPair;
  /** SP entity id. */
  audience: string;
  /** ACS URL. */
  destination: string;
}

export interface SignBatch {
  id: number;
  context: SignContext;
  jobs: SignJob[];
}

export interface SignedBatch {
  id: number;
  signed: string[];
}

// Node 20 does not apply `--import tsx` to a worker's modules (nodejs/node#47747): the worker
// registers tsx itself, then loads the TypeScript worker.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((tsx) => { tsx.register(); return import(workerData.entry); });
`;

const BATCH = 100;

/** Signs every job (base64 SAMLResponses, in job order) on `threads` worker threads. */
export async function signAll(
  context: SignContext,
  jobs: readonly SignJob[],
  threads: number,
  onProgress: (done: number, total: number) => void,
): Promise<string[]> {
  const out: string[] = new Array(jobs.length);
  const batches: SignBatch[] = [];
  for (let i = 0; i < jobs.length; i += BATCH) {
    batches.push({ id: i, context, jobs: jobs.slice(i, i + BATCH) });
  }
  let next = 0;
  let done = 0;
  const workerData = {
    tsxApi: import.meta.resolve('tsx/esm/api'),
    entry: new URL('./sign-worker.ts', import.meta.url).href,
  };
  const runOne = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(BOOTSTRAP, { eval: true, workerData, execArgv: [] });
      const feed = () => {
        const batch = batches[next++];
        if (batch) worker.postMessage(batch);
        else void worker.terminate().then(() => resolve());
      };
      worker.on('message', (reply: SignedBatch) => {
        reply.signed.forEach((s, k) => {
          out[reply.id + k] = s;
        });
        done += reply.signed.length;
        onProgress(done, jobs.length);
        feed();
      });
      worker.on('error', reject);
      worker.on('online', feed);
    });
  await Promise.all(Array.from({ length: Math.max(1, threads) }, runOne));
  return out;
}

/** The HTML form post an IdP's browser sends to the ACS, encoded once so sending it costs nothing. */
export function formBody(samlResponse: string): Buffer {
  return Buffer.from(`SAMLResponse=${encodeURIComponent(samlResponse)}&RelayState=`, 'utf8');
}
