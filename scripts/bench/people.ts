import { EntraAuthnMethods, EntraClaims } from '../demo-idp/index.js';

/** One person as the IdP describes them: the NameID and the Entra-shaped claims of their response. */
export interface Person {
  nameId: string;
  attributes: Record<string, string | string[]>;
}

// Plain claim names, as an admin adds "additional claims" in Entra's Attributes & Claims page.
export const COUNTRY_CLAIM = 'country';

const GIVEN = ['Ada', 'Zoë', 'Grace', 'Linus', 'Søren', 'Marie', 'Alan', 'Björk', 'Edsger', 'Hedy'];
const FAMILY = ['Lovelace', 'Ångström', 'Hopper', 'Torvalds', 'Kierkegaard', 'Curie', 'Turing', 'Dijkstra'];
const TITLES = ['Engineer', 'Analyst', 'Sales Manager', 'Controller', 'Support Specialist'];
export const DEPARTMENT_CODES: Record<string, string> = {
  D042: 'Finance',
  D043: 'Sales',
  D044: 'Engineering',
  D045: 'Support',
};
const DEPARTMENTS = [...Object.keys(DEPARTMENT_CODES), 'D999'];
const COUNTRIES = ['nl', 'de', 'fr', 'us'];

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(-width);
/** A deterministic GUID (object ids, group ids). */
export const guid = (a: number, b: number): string =>
  `${hex(a, 8)}-${hex(b, 4)}-4${hex(a, 3)}-8${hex(b, 3)}-${hex(a * 31 + b, 12)}`;

/**
 * Deterministic people, so a run is reproducible, with the claims a real Entra tenant sends (UPN,
 * object id, tenant, groups, authentication methods) plus the additional claims the mappings read.
 */
export function person(prefix: string, i: number, tenant: string): Person {
  const given = GIVEN[i % GIVEN.length] as string;
  const family = FAMILY[(i * 7) % FAMILY.length] as string;
  const upn = `${prefix}.${i}@Contoso.example`;
  return {
    nameId: upn,
    attributes: {
      [EntraClaims.tenantId]: tenant,
      [EntraClaims.objectIdentifier]: guid(i, 0xb0b),
      [EntraClaims.identityProvider]: `https://sts.windows.net/${tenant}/`,
      [EntraClaims.authnMethodsReferences]: [EntraAuthnMethods.password, EntraAuthnMethods.multipleAuthn],
      [EntraClaims.givenName]: given,
      [EntraClaims.surname]: family,
      [EntraClaims.emailAddress]: upn.toLowerCase(),
      [EntraClaims.name]: upn,
      [EntraClaims.displayName]: `${given} ${family}`,
      [EntraClaims.groups]: [guid(i % 17, 1), guid(i % 5, 2), guid(7, 3)],
      [EntraClaims.department]: DEPARTMENTS[i % DEPARTMENTS.length] as string,
      [EntraClaims.jobTitle]: TITLES[i % TITLES.length] as string,
      [EntraClaims.employeeId]: `E${100000 + i}`,
      [COUNTRY_CLAIM]: COUNTRIES[i % COUNTRIES.length] as string,
    },
  };
}
