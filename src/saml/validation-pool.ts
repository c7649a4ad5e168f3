import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { ValidatedAssertion } from './assertion.js';
import type { IncomingResponse } from './incoming.js';
import type { SpKeyStore } from './sp-keys.js';
import type { ValidationReply, ValidationRequest, ValidationWorkerInit } from './validation-protocol.js';
import type { ConnectionTrust, SamlValidator } from './validator.js';

const RUNNING_TS = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(
  RUNNING_TS ? './validation-worker-tsx.mjs' : './validation-worker.js',
  import.meta.url,
);

interface Pending {
  resolve: (a: ValidatedAssertion) => void;
  reject: (e: AppError) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * Validates SAML responses in worker threads: the XML signature work is most of a sign-in's CPU,
 * and off the main event loop it runs on every core while one slow validation stalls nothing else.
 * Same contract as the in-process validator; a worker that dies is replaced and its work refused
 * with INTERNAL.
 */
export function createValidationPool(opts: {
  size: number;
  init: ValidationWorkerInit;
  spKeys: SpKeyStore;
  logger: Logger;
}): SamlValidator & { close(): Promise<void> } {
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(WORKER_URL, { workerData: opts.init, execArgv: [], env: {} });
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (reply: ValidationReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve(reply.assertion);
      else {
        if (reply.unexpected) opts.logger.error({ message: reply.message }, 'SAML validation worker failed');
        p.reject(
          new AppError(reply.code, reply.unexpected ? 'internal error' : reply.message, reply.details),
        );
      }
    });
    worker.on('error', (err) => opts.logger.error({ err }, 'SAML validation worker crashed'));
    worker.on('exit', () => {
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      for (const p of slot.pending.values()) p.reject(new AppError('INTERNAL', 'internal error'));
      slot.pending.clear();
      if (!closed) slots.push(spawn());
    });
    worker.unref();
    return slot;
  }

  for (let i = 0; i < opts.size; i++) slots.push(spawn());

  async function validateEncoded(conn: ConnectionTrust, base64: string): Promise<ValidatedAssertion> {
    // Only an encrypted assertion needs the SP key sent along; a text search finds it without parsing.
    const encrypted = Buffer.from(base64, 'base64').includes('EncryptedAssertion');
    const spKeys = encrypted ? await opts.spKeys.get() : undefined;
    // The least busy worker; a plain-data copy of the connection (entities do not cross threads).
    const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const request: ValidationRequest = {
      id: nextId++,
      connection: {
        id: conn.id,
        entityId: conn.entityId,
        certificates: conn.certificates.map((c) => ({ ...c })),
        wantResponseSigned: conn.wantResponseSigned,
        clockSkewSeconds: conn.clockSkewSeconds,
        nameIdFormat: conn.nameIdFormat ?? null,
        allowSha1: conn.allowSha1,
      },
      base64,
      ...(spKeys ? { spKeys } : {}),
    };
    return new Promise<ValidatedAssertion>((resolve, reject) => {
      slot.pending.set(request.id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage(request);
    });
  }

  return {
    validate: (conn: ConnectionTrust, incoming: IncomingResponse) => validateEncoded(conn, incoming.base64),
    validateEncoded,
    close: async () => {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
