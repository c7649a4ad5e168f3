/**
 * Validates a JSONata function signature (`<s-n?:s>`). JSONata itself accepts any string at
 * registration and only fails when the function is called, so a typo would surface at a sign-in;
 * this checks the grammar when the plugin loads instead.
 *
 *   signature := '<' param* (':' type)? '>'
 *   param     := type ('?' | '+' | '-')*
 *   type      := 'b' | 'n' | 's' | 'l' | 'o' | 'j' | 'x' | '(' simple+ ')'
 *              | 'a' ('<' type '>')? | 'f' ('<' param* (':' type)? '>')?
 */

const SIMPLE = new Set(['b', 'n', 's', 'l', 'o', 'j', 'x', 'a', 'f']);

class SignatureError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(`${message} at position ${pos}`);
  }
}

export function signatureError(signature: string): string | undefined {
  let i = 0;
  const peek = (): string | undefined => signature[i];
  const expect = (c: string): void => {
    if (signature[i] !== c) throw new SignatureError(`expected "${c}"`, i);
    i++;
  };

  const type = (): void => {
    const c = peek();
    if (c === '(') {
      i++;
      const start = i;
      while (peek() !== undefined && SIMPLE.has(peek() as string)) i++;
      if (i === start) throw new SignatureError('empty type choice', i);
      expect(')');
      return;
    }
    if (c === undefined || !SIMPLE.has(c)) throw new SignatureError(`unknown type "${c ?? 'end'}"`, i);
    i++;
    if (peek() !== '<') return;
    if (c === 'a') {
      i++;
      type();
      expect('>');
    } else if (c === 'f') {
      i++;
      body();
      expect('>');
    } else {
      throw new SignatureError(`type "${c}" takes no type parameter`, i);
    }
  };

  const body = (): void => {
    while (peek() !== undefined && peek() !== ':' && peek() !== '>') {
      type();
      while (peek() === '?' || peek() === '+' || peek() === '-') i++;
    }
    if (peek() === ':') {
      i++;
      type();
    }
  };

  try {
    expect('<');
    body();
    expect('>');
    if (i !== signature.length) throw new SignatureError('unexpected text after the signature', i);
    return undefined;
  } catch (e) {
    if (e instanceof SignatureError) return e.message;
    throw e;
  }
}
