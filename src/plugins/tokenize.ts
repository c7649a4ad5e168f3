/**
 * A small JavaScript/TypeScript tokenizer, just enough for the plugin source check: it separates
 * code from comments, strings, template text and regex literals so that a forbidden word inside a
 * string or comment is not a fault, while code inside `${…}` still is. It does not parse; the
 * regex-versus-division guess is the usual "what came before" heuristic.
 */

export type TokenKind = 'ident' | 'string' | 'punct' | 'number' | 'regex' | 'template';

export interface Token {
  kind: TokenKind;
  value: string;
  /** Offset in the source, for line numbers in messages. */
  pos: number;
}

export class TokenizeError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const IDENT_START = /[A-Za-z_$\p{L}]/u;
const IDENT_PART = /[A-Za-z0-9_$\p{L}\p{N}\u200c\u200d]/u;
const REGEX_AFTER_KEYWORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

function regexAllowed(prev: Token | undefined): boolean {
  if (!prev) return true;
  if (prev.kind === 'ident') return REGEX_AFTER_KEYWORD.has(prev.value);
  if (prev.kind === 'punct') return ![')', ']', '}'].includes(prev.value);
  return false;
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  // One entry per open `${`: the brace depth at which the template text resumes.
  const templateStack: number[] = [];
  let braceDepth = 0;
  let i = 0;

  const readTemplateText = (start: number): void => {
    let j = start;
    while (j < src.length) {
      const c = src[j];
      if (c === '\\') {
        j += 2;
        continue;
      }
      if (c === '`') {
        tokens.push({ kind: 'template', value: src.slice(start, j), pos: start });
        i = j + 1;
        return;
      }
      if (c === '$' && src[j + 1] === '{') {
        tokens.push({ kind: 'template', value: src.slice(start, j), pos: start });
        templateStack.push(braceDepth);
        braceDepth++;
        i = j + 2;
        return;
      }
      j++;
    }
    throw new TokenizeError('unterminated template literal', start);
  };

  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      i = end === -1 ? src.length : end;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end === -1) throw new TokenizeError('unterminated comment', i);
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') j++;
        else if (src[j] === '\n') throw new TokenizeError('unterminated string', i);
        j++;
      }
      if (j >= src.length) throw new TokenizeError('unterminated string', i);
      tokens.push({ kind: 'string', value: src.slice(i + 1, j), pos: i });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      readTemplateText(i + 1);
      continue;
    }
    if (c === '/' && regexAllowed(tokens.at(-1))) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length) {
        const d = src[j];
        if (d === '\\') j++;
        else if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        else if (d === '\n') throw new TokenizeError('unterminated regular expression', i);
        j++;
      }
      j++;
      while (j < src.length && /[a-z]/i.test(src[j] as string)) j++;
      tokens.push({ kind: 'regex', value: src.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < src.length && IDENT_PART.test(src[j] as string)) j++;
      tokens.push({ kind: 'ident', value: src.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < src.length && /[0-9A-Za-z_.]/.test(src[j] as string)) j++;
      tokens.push({ kind: 'number', value: src.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (c === '\\') {
      // `\u0070rocess` is the identifier `process`: refuse escapes outside strings outright.
      throw new TokenizeError('escape sequence outside a string', i);
    }
    if (c === '{') braceDepth++;
    if (c === '}') {
      braceDepth--;
      if (templateStack.length > 0 && templateStack.at(-1) === braceDepth) {
        templateStack.pop();
        readTemplateText(i + 1);
        continue;
      }
    }
    tokens.push({ kind: 'punct', value: c, pos: i });
    i++;
  }
  if (templateStack.length > 0) throw new TokenizeError('unterminated template literal', src.length);
  return tokens;
}

/** 1-based line number of an offset, for messages. */
export function lineOf(src: string, pos: number): number {
  let line = 1;
  for (let k = 0; k < pos && k < src.length; k++) if (src[k] === '\n') line++;
  return line;
}
