import { domainToUnicode } from 'node:url';
import validator from 'validator';
import { AppError } from '../errors.js';
import type { ContactField } from '../users/contact-fields.js';

export type ContactValue = string | number | boolean | string[] | null;

const PHONE = /^\+?[0-9 ()\-./]{3,}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$/i;

export interface CoercionContext {
  mappingId: string;
  attributeName: string;
}

function fail(field: ContactField, ctx: CoercionContext, why: string): never {
  throw new AppError(
    'MAPPING_VALUE_INVALID',
    `mapping of attribute "${ctx.attributeName}" to column "${field.name}": ${why}`,
    { mappingId: ctx.mappingId, attribute: ctx.attributeName, column: field.name },
  );
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
// An ISO 8601 date, or the date part of a date-time (what IdPs and HR systems send).
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function coerceOne(raw: string, field: ContactField, ctx: CoercionContext): string | number | boolean {
  const v = raw.trim();
  switch (field.type) {
    case 'NUMBER': {
      const n = v === '' ? Number.NaN : Number(v);
      if (!Number.isFinite(n)) fail(field, ctx, 'value is not a number');
      return n;
    }
    case 'BOOLEAN': {
      const b = v.toLowerCase();
      if (TRUE.has(b)) return true;
      if (FALSE.has(b)) return false;
      return fail(field, ctx, 'value is not a boolean (true/false, yes/no, 1/0)');
    }
    case 'DATE': {
      const m = ISO_DATE.exec(v);
      const date = m ? `${m[1]}-${m[2]}-${m[3]}` : '';
      const parsed = m ? new Date(`${date}T00:00:00Z`) : null;
      if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) {
        fail(field, ctx, 'value is not an ISO 8601 date (YYYY-MM-DD)');
      }
      return date;
    }
    case 'ENUM':
      if (!(field.enumValues ?? []).includes(v)) {
        fail(field, ctx, `value is not one of the field's values (${(field.enumValues ?? []).join(', ')})`);
      }
      return v;
    default:
      break;
  }
  if (v.length > field.maxLength) {
    fail(field, ctx, `value has ${v.length} characters, the column holds at most ${field.maxLength}`);
  }
  switch (field.type) {
    case 'EMAIL':
      return email(v, field, ctx);
    case 'PHONE':
      if (!PHONE.test(v)) fail(field, ctx, 'value is not a phone number');
      return v;
    case 'COUNTRY':
      if (!/^[A-Za-z]{2}$/.test(v)) fail(field, ctx, 'value is not an ISO 3166-1 alpha-2 country code');
      return v.toUpperCase();
    case 'LANGUAGE':
      try {
        const [canonical] = Intl.getCanonicalLocales(v);
        if (!canonical) fail(field, ctx, 'value is not a BCP 47 language tag');
        return canonical;
      } catch (e) {
        if (e instanceof AppError) throw e;
        return fail(field, ctx, 'value is not a BCP 47 language tag');
      }
    default:
      return v;
  }
}

/**
 * An email address as RFC 6531 allows it (validator.js): internationalised local parts (björn@,
 * 山田@) and domains. One form is stored: the local part as given (NFC), the domain in Unicode
 * (an IDN given as punycode, xn--…, is decoded), lower-cased, so that one address is one value.
 */
function email(v: string, field: ContactField, ctx: CoercionContext): string {
  if (!validator.isEmail(v, { allow_utf8_local_part: true, require_tld: true, allow_ip_domain: false })) {
    fail(field, ctx, 'value is not an email address');
  }
  const at = v.lastIndexOf('@');
  const domain = domainToUnicode(v.slice(at + 1).toLowerCase()) || v.slice(at + 1).toLowerCase();
  return `${v.slice(0, at)}@${domain}`.normalize('NFC');
}

/**
 * Coerces an attribute's values to a contact column. Empty values count as absent (null). A
 * single-valued column takes exactly one value; several are refused rather than silently cut.
 */
export function coerceToField(
  values: readonly string[],
  field: ContactField,
  ctx: CoercionContext,
): ContactValue {
  const present = values.filter((v) => v.trim() !== '');
  if (present.length === 0) return null;
  if (field.multiValued) return present.map((v) => String(coerceOne(v, field, ctx)));
  if (present.length > 1) {
    fail(field, ctx, `attribute has ${present.length} values and the column takes one`);
  }
  return coerceOne(present[0] as string, field, ctx);
}
