import jsonata from 'jsonata';

/** A JSONata compile failure, with the position JSONata reports (0-based character offset). */
export interface CompileFailure {
  message: string;
  position: number | undefined;
}

interface JsonataErrorLike {
  code?: unknown;
  message?: unknown;
  position?: unknown;
  token?: unknown;
}

export const asErrorLike = (e: unknown): JsonataErrorLike =>
  typeof e === 'object' && e !== null ? (e as JsonataErrorLike) : { message: String(e) };

/** Compiles an expression, returning the compiled form or why it does not compile. */
export function tryCompile(
  expression: string,
  options?: jsonata.JsonataOptions,
): { ok: true; expression: jsonata.Expression } | { ok: false; failure: CompileFailure } {
  try {
    return { ok: true, expression: jsonata(expression, options) };
  } catch (e) {
    const err = asErrorLike(e);
    const position = typeof err.position === 'number' ? err.position : undefined;
    const code = typeof err.code === 'string' ? ` ${err.code}` : '';
    const text = typeof err.message === 'string' ? err.message : 'syntax error';
    const where = position !== undefined ? ` at position ${position}` : '';
    return { ok: false, failure: { message: `${text} (JSONata${code}${where})`, position } };
  }
}
