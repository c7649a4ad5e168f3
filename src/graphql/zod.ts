import { decodeGlobalID } from '@pothos/plugin-relay';
import type { z } from 'zod';
import { AppError } from '../errors.js';

/** Parses an input with a zod guard; the first issue becomes a VALIDATION_FAILED naming its path. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  root: string[] = ['input'],
): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = [...root, ...(issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p))];
  throw new AppError('VALIDATION_FAILED', `${path.join('.')}: ${issue?.message ?? 'invalid'}`, { path });
}

/** A unique-constraint violation from PostgreSQL. */
export const isUniqueViolation = (e: unknown): boolean =>
  typeof e === 'object' &&
  e !== null &&
  ((e as { code?: unknown }).code === '23505' ||
    (e as { name?: unknown }).name === 'UniqueConstraintViolationException');

/** Decodes a Relay global id of the expected type; anything else is a VALIDATION_FAILED at `path`. */
export function decodeId(globalId: string, typename: string, path: (string | number)[]): string {
  let decoded: { typename: string; id: string } | null = null;
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    decoded = null;
  }
  if (!decoded || decoded.typename !== typename || !decoded.id) {
    throw new AppError('VALIDATION_FAILED', `${path.join('.')}: not a ${typename} id`, { path });
  }
  return decoded.id;
}
