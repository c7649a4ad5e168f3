// XML 1.0 cannot carry these at all, not even as character references.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding the control characters XML forbids is the point
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Escaped so parsers keep them: a literal CR becomes LF in text and whitespace becomes a space
  // in attribute values (XML 1.0 end-of-line and attribute-value normalisation).
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};

/** Escapes for both text content and double-quoted attribute values. */
export function escapeXml(value: string): string {
  if (FORBIDDEN.test(value)) {
    throw new Error('value contains a character XML 1.0 cannot represent');
  }
  return value.replace(/[&<>"'\r\n\t]/g, (c) => ENTITIES[c] ?? c);
}

/** The base64 body of a PEM certificate, as X509Certificate elements carry it. */
export function pemToBase64(pem: string): string {
  const body = pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
  if (body === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    throw new Error('not a PEM certificate');
  }
  return body;
}
