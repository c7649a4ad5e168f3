import { parentPort } from 'node:worker_threads';
import { buildSignedResponse, encodeSamlResponse } from '../demo-idp/index.js';
import type { SignBatch, SignedBatch } from './signing.js';

// Signing costs several ms of XML work per response: it runs in worker threads, before any timing.
const port = parentPort;
if (!port) throw new Error('sign-worker runs as a worker thread');
port.on('message', (batch: SignBatch) => {
  const signed = batch.jobs.map((job) =>
    encodeSamlResponse(
      buildSignedResponse({
        key: batch.context.key,
        audience: batch.context.audience,
        destination: batch.context.destination,
        issuer: job.issuer,
        nameId: job.person.nameId,
        attributes: job.person.attributes,
        sign: job.sign,
      }),
    ),
  );
  const reply: SignedBatch = { id: batch.id, signed };
  port.postMessage(reply);
});
