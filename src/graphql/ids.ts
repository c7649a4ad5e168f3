import { decodeGlobalID } from '@pothos/plugin-relay';
import { AppError } from '../errors.js';

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
