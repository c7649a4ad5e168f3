import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** The request being served, visible to code that is not handed it (error masking, logs). */
const store = new AsyncLocalStorage<{ requestId: string }>();

/** A client's x-request-id is kept when it is a plain token; otherwise a fresh one is made. */
export function requestIdOf(request: Request): string {
  const given = request.headers.get('x-request-id');
  return given && /^[A-Za-z0-9._-]{8,128}$/.test(given) ? given : randomUUID();
}

export const runWithRequest = <T>(requestId: string, fn: () => Promise<T>): Promise<T> =>
  store.run({ requestId }, fn);

export const currentRequestId = (): string | undefined => store.getStore()?.requestId;
