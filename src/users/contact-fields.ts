import type { EntityManager } from '@mikro-orm/postgresql';
import { ContactFieldDefinition } from './contact-field.entity.js';

/**
 * The contact fields an attribute mapping may fill, with their types: the admin's dropdown and the
 * single source for coercion. The built-in ones are columns the Contact entity declares (a test
 * holds them in step: adding one means adding it here, to the entity, and a migration); the
 * admin-defined ones (contact-field.entity.ts) live in the contact's `custom` JSON, by name.
 */
export type ContactFieldType =
  | 'STRING'
  | 'EMAIL'
  | 'PHONE'
  | 'COUNTRY'
  | 'LANGUAGE'
  | 'STRING_LIST'
  | 'NUMBER'
  | 'BOOLEAN'
  | 'DATE'
  | 'ENUM';

export interface ContactField {
  /** Property name on the Contact entity and in GraphQL; an admin-defined field's name. */
  name: string;
  /** SQL column name; `custom.<name>` for an admin-defined field (a key of contact.custom). */
  column: string;
  label: string;
  type: ContactFieldType;
  /** Longest accepted value (per item for lists), in characters. */
  maxLength: number;
  /** Takes several values (an array column). */
  multiValued: boolean;
  description: string;
  /** Defined by an admin (stored in contact.custom) rather than built in. */
  custom: boolean;
  /** The values an ENUM field takes. */
  enumValues?: readonly string[];
}

const field = (
  name: string,
  column: string,
  label: string,
  type: ContactFieldType,
  maxLength: number,
  description: string,
): ContactField => ({
  name,
  column,
  label,
  type,
  maxLength,
  multiValued: type === 'STRING_LIST',
  description,
  custom: false,
});

export const CONTACT_FIELDS: readonly ContactField[] = Object.freeze([
  field('fullName', 'full_name', 'Full name', 'STRING', 200, 'Display name of the person'),
  field('givenName', 'given_name', 'Given name', 'STRING', 100, 'First name'),
  field('surname', 'surname', 'Surname', 'STRING', 100, 'Family name'),
  field('email', 'email', 'Email', 'EMAIL', 320, 'Primary email address'),
  field('phone', 'phone', 'Business phone', 'PHONE', 32, 'Phone number as given, digits and + ( ) - . space'),
  field('mobilePhone', 'mobile_phone', 'Mobile phone', 'PHONE', 32, 'Mobile number'),
  field('jobTitle', 'job_title', 'Job title', 'STRING', 128, 'Job title'),
  field('department', 'department', 'Department', 'STRING', 128, 'Department name'),
  field('company', 'company', 'Company', 'STRING', 128, 'Company or organisation name'),
  field('officeLocation', 'office_location', 'Office', 'STRING', 128, 'Office location'),
  field('city', 'city', 'City', 'STRING', 100, 'City'),
  field('country', 'country', 'Country', 'COUNTRY', 2, 'ISO 3166-1 alpha-2 code, e.g. NL'),
  field('language', 'language', 'Language', 'LANGUAGE', 35, 'BCP 47 language tag, e.g. en-GB'),
  field('externalId', 'external_id', 'External id', 'STRING', 128, 'Id of the person in the IdP directory'),
  field('employeeId', 'employee_id', 'Employee id', 'STRING', 64, 'HR employee number'),
  field('groups', 'groups', 'Groups', 'STRING_LIST', 256, 'Group names or ids (multi-valued)'),
]);

const byName = new Map(CONTACT_FIELDS.map((f) => [f.name, f]));

/** Longest value of an admin-defined text field (per item for a list). */
export const CUSTOM_FIELD_MAX_LENGTH = 1024;

/** An admin-defined field as the catalog presents it. */
export function customField(d: ContactFieldDefinition): ContactField {
  return {
    name: d.name,
    column: `custom.${d.name}`,
    label: d.label,
    type: d.type,
    maxLength: CUSTOM_FIELD_MAX_LENGTH,
    multiValued: d.type === 'STRING_LIST',
    description: d.description,
    custom: true,
    ...(d.type === 'ENUM' ? { enumValues: d.enumValues ?? [] } : {}),
  };
}

/** The admin-defined fields, by name. */
export async function loadCustomFields(em: EntityManager): Promise<ContactField[]> {
  return (await em.find(ContactFieldDefinition, {}, { orderBy: { name: 'asc' } })).map(customField);
}

/** A built-in field by name, else one of the admin-defined `custom` fields. */
export function findContactField(
  name: string,
  custom: readonly ContactField[] = [],
): ContactField | undefined {
  return byName.get(name) ?? custom.find((f) => f.name === name);
}

/** Whether a name belongs to a built-in field (an admin-defined one may not take it). */
export const isBuiltInField = (name: string): boolean => byName.has(name);

/** Attribute names the IdPs in our field always send multi-valued. */
export const KNOWN_MULTI_VALUED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  'http://schemas.microsoft.com/claims/authnmethodsreferences',
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/wids',
  'groups',
  'memberOf',
  'Role',
]);
