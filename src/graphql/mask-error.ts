import { ForbiddenError } from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { currentRequestId } from '../http/request-context.js';

/**
 * The one place GraphQL errors outside the typed unions are shaped for clients: authorization
 * refusals keep their message with code FORBIDDEN; anything unexpected becomes "Unexpected error."
 * with code INTERNAL and a request id, the detail going only to the log.
 */
export function createMaskError(logger: Logger) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const path = error instanceof GraphQLError ? error.path : undefined;
    if (original instanceof ForbiddenError) {
      return createGraphQLError(original.message, { path, extensions: { code: 'FORBIDDEN' } });
    }
    if (original instanceof AppError && original.code !== 'INTERNAL') {
      return createGraphQLError(original.message, { path, extensions: { code: original.code } });
    }
    if (error instanceof GraphQLError && !error.originalError) {
      // Parse and validation errors: about the request itself, safe to show.
      return yogaMaskError(error, message, isDev);
    }
    const requestId = currentRequestId() ?? crypto.randomUUID();
    logger.error({ err: original, requestId }, 'unexpected GraphQL error');
    return createGraphQLError(message, { path, extensions: { code: 'INTERNAL', requestId } });
  };
}
