import { AppError, type ErrorCode, ErrorCodes, type ErrorDetails } from '../errors.js';
import { builder } from './builder.js';

/** A refused input (admin mutations): carries the path of the offending field. */
export class InputError extends AppError {}
/** A refused sign-in (ACS handoff). */
export class SignInError extends AppError {}

const SIGN_IN_CODES = new Set<ErrorCode>([
  'JIT_DISABLED',
  'USER_BLOCKED',
  'CONNECTION_DISABLED',
  'MAPPING_VALUE_INVALID',
  'REQUIRED_ATTRIBUTE_MISSING',
  'TRANSFORM_FAILED',
  'TRANSFORM_TIMEOUT',
  'DATABASE_UNAVAILABLE',
  'IDENTITY_KEY_MISSING',
  'LINK_REFUSED',
  'USERNAME_TAKEN',
  'LICENSE_SEATS_EXHAUSTED',
  'DATABASE_CONTENTION',
]);

type ErrorFamily = new (
  code: ErrorCode,
  message: string,
  details: ErrorDetails,
  options: { cause: unknown },
) => AppError;

/**
 * Runs a resolver and turns catalog errors into their GraphQL union member: a SignInError or an
 * InputError, or the family `special` picks (a field whose union has a richer error type). Anything
 * else is rethrown untouched and masked by Yoga into a generic error (details only in the log).
 */
export async function typedErrors<T>(
  fn: () => Promise<T>,
  special?: (e: AppError) => ErrorFamily | undefined,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof AppError) || e.code === 'INTERNAL') throw e;
    const Family =
      special?.(e) ?? (e.code.startsWith('SAML_') || SIGN_IN_CODES.has(e.code) ? SignInError : InputError);
    throw new Family(e.code, e.message, e.details, { cause: e });
  }
}

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable error codes. Clients match on these, never on messages.',
  values: Object.fromEntries(
    Object.entries(ErrorCodes).map(([code, description]) => [code, { value: code, description }]),
  ) as Record<ErrorCode, { value: ErrorCode; description: string }>,
});

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'An expected failure: a stable code and a message that names the cause.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

const pathOf = (d: ErrorDetails): string[] => (d.path ?? []).map(String);

builder.objectType(InputError, {
  name: 'InputError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof InputError,
  fields: (t) => ({
    path: t.stringList({
      description: 'Path of the offending input field',
      resolve: (e) => pathOf(e.details),
    }),
  }),
});

builder.objectType(SignInError, {
  name: 'SignInError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof SignInError,
  fields: (t) => ({
    column: t.string({
      nullable: true,
      description: 'The contact column concerned, for mapping errors',
      resolve: (e) => (typeof e.details.column === 'string' ? e.details.column : null),
    }),
    attribute: t.string({
      nullable: true,
      description: 'The SAML attribute concerned, for mapping errors',
      resolve: (e) => (typeof e.details.attribute === 'string' ? e.details.attribute : null),
    }),
  }),
});
