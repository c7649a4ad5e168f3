import type { ErrorCode, ErrorDetails } from '../errors.js';
import type { ValidatedAssertion } from './assertion.js';
import type { SpKeys } from './sp-keys.js';
import type { ConnectionTrust } from './validator.js';

export interface ValidationWorkerInit {
  spEntityId: string;
  acsUrl: string;
  maxResponseBytes: number;
}

export interface ValidationRequest {
  id: number;
  /** Plain data (structured clone): never an ORM entity. */
  connection: ConnectionTrust;
  base64: string;
  /** Sent only with a response that carries an EncryptedAssertion. */
  spKeys?: SpKeys;
}

export type ValidationReply =
  | { id: number; ok: true; assertion: ValidatedAssertion }
  | { id: number; ok: false; code: ErrorCode; message: string; details: ErrorDetails; unexpected: boolean };
