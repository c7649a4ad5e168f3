import { DOMParser } from '@xmldom/xmldom';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
} as const;

/**
 * Parses XML that came from outside, strictly: any DOCTYPE is refused before parsing (XXE, entity
 * expansion), and every parser warning or error is a failure, never a silently repaired document.
 * Returns null when the text is not well-formed XML.
 */
export function parseStrictXml(text: string): Document | null {
  let failed = false;
  const parser = new DOMParser({
    locator: {},
    errorHandler: {
      warning: () => {
        failed = true;
      },
      error: () => {
        failed = true;
      },
      fatalError: () => {
        failed = true;
      },
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch {
    return null;
  }
  if (failed || !doc.documentElement) return null;
  return doc;
}

export const hasDoctype = (text: string): boolean => /<!DOCTYPE/i.test(text);

/** Element children in document order, whatever their namespace. */
export function elementChildren(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

/** Every element below `root` (not `root` itself), depth first; iterative so depth cannot blow the stack. */
export function descendants(root: Element): Element[] {
  const out: Element[] = [];
  const stack = elementChildren(root).reverse();
  for (let el = stack.pop(); el; el = stack.pop()) {
    out.push(el);
    stack.push(...elementChildren(el).reverse());
  }
  return out;
}

export function childElements(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) {
      const el = n as Element;
      if (el.namespaceURI === ns && el.localName === localName) out.push(el);
    }
  }
  return out;
}

export const firstChild = (parent: Element, ns: string, localName: string): Element | undefined =>
  childElements(parent, ns, localName)[0];

/** Text content of an element, counting text and CDATA only (comments never split or hide a value). */
export function textOf(el: Element): string {
  let s = '';
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 3 || n.nodeType === 4) s += n.nodeValue ?? '';
    else if (n.nodeType === 1) s += textOf(n as Element);
  }
  return s;
}

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
