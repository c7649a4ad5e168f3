import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../errors.js';
import { readIncomingResponse } from './incoming.js';
import type { SpKeys } from './sp-keys.js';
import type { ValidationReply, ValidationRequest, ValidationWorkerInit } from './validation-protocol.js';
import { createSamlValidator } from './validator.js';

// Each worker runs the whole validation (hygiene, guards, signature verification, verified read)
// off the main event loop; each connection's public keys are parsed once per worker.
const init = workerData as ValidationWorkerInit;
let keys: SpKeys | null = null;
const validator = createSamlValidator({
  spEntityId: init.spEntityId,
  acsUrl: init.acsUrl,
  spKeys: {
    get: async () => {
      if (!keys)
        throw new AppError('SAML_DECRYPTION_FAILED', 'the encrypted assertion could not be decrypted');
      return keys;
    },
  },
});

parentPort?.on('message', async (request: ValidationRequest) => {
  if (request.spKeys) keys = request.spKeys;
  let reply: ValidationReply;
  try {
    const incoming = readIncomingResponse(request.base64, init.maxResponseBytes);
    const assertion = await validator.validate(request.connection, incoming);
    reply = { id: request.id, ok: true, assertion };
  } catch (e) {
    reply =
      e instanceof AppError
        ? {
            id: request.id,
            ok: false,
            code: e.code,
            message: e.message,
            details: e.details,
            unexpected: false,
          }
        : {
            id: request.id,
            ok: false,
            code: 'INTERNAL',
            message: e instanceof Error ? e.message : String(e),
            details: {},
            unexpected: true,
          };
  }
  parentPort?.postMessage(reply);
});
