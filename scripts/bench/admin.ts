import { readFileSync } from 'node:fs';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLNamedType,
  getNamedType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { EntraClaims } from '../demo-idp/index.js';
import { COUNTRY_CLAIM, DEPARTMENT_CODES, guid } from './people.js';

export interface AdminApi {
  gql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

interface GqlBody<T> {
  data?: T;
  errors?: { message: string }[];
}

export function adminApi(port: number, token: string): AdminApi {
  return {
    async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GqlBody<T>;
      if (body.errors?.length || !body.data) {
        throw new Error(`GraphQL: ${body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${res.status}`}`);
      }
      return body.data;
    },
  };
}

type Union = { __typename: string; id?: string; code?: string; message?: string };

function unwrap(what: string, r: Union): string {
  if (!r.id) throw new Error(`${what}: ${r.__typename} ${r.code ?? ''} ${r.message ?? ''}`);
  return r.id;
}

export async function createConnection(
  api: AdminApi,
  name: string,
  metadataXml: string,
  wantResponseSigned: boolean,
): Promise<string> {
  const r = await api.gql<{ createConnection: Union }>(
    `mutation($input: CreateConnectionInput!) { createConnection(input: $input) {
       __typename ... on IdpConnection { id } ... on InputError { code message } } }`,
    { input: { name, metadataXml, wantResponseSigned } },
  );
  return unwrap('createConnection', r.createConnection);
}

/**
 * Ten mappings as an Entra admin sets them up: seven COPY of the usual claims and three TRANSFORM
 * (two repository plugins and an inline JSONata expression), so each first sign-in runs three
 * transform evaluations in the workers.
 */
export const BENCH_MAPPINGS: Record<string, unknown>[] = [
  { attributeName: EntraClaims.givenName, column: 'givenName' },
  { attributeName: EntraClaims.surname, column: 'surname' },
  { attributeName: EntraClaims.displayName, column: 'fullName' },
  { attributeName: EntraClaims.groups, column: 'groups' },
  { attributeName: EntraClaims.jobTitle, column: 'jobTitle' },
  { attributeName: EntraClaims.employeeId, column: 'employeeId' },
  { attributeName: EntraClaims.objectIdentifier, column: 'externalId' },
  {
    kind: 'TRANSFORM',
    attributeName: EntraClaims.name,
    column: 'email',
    plugin: 'email-from-upn',
    params: {},
    required: true,
  },
  {
    kind: 'TRANSFORM',
    attributeName: EntraClaims.department,
    column: 'department',
    plugin: 'value-map',
    params: { map: DEPARTMENT_CODES, default: 'Other' },
  },
  {
    kind: 'TRANSFORM',
    attributeName: COUNTRY_CLAIM,
    column: 'country',
    plugin: 'expression',
    params: { expression: '$uppercase($trim($value))' },
  },
];

/** The same contact fields as BENCH_MAPPINGS' COPY ones, from SCIM attribute paths. */
export const SCIM_MAPPINGS: Record<string, unknown>[] = [
  { attributeName: 'name.givenName', column: 'givenName' },
  { attributeName: 'name.familyName', column: 'surname' },
  { attributeName: 'displayName', column: 'fullName' },
  { attributeName: 'emails[type eq "work"].value', column: 'email', required: true },
  { attributeName: 'department', column: 'department' },
  { attributeName: 'employeeNumber', column: 'employeeId' },
];

export async function addMappings(
  api: AdminApi,
  connectionId: string,
  mappings: readonly Record<string, unknown>[] = BENCH_MAPPINGS,
): Promise<void> {
  for (const mapping of mappings) {
    const r = await api.gql<{ addAttributeMapping: Union }>(
      `mutation($input: AddAttributeMappingInput!) { addAttributeMapping(input: $input) {
         __typename ... on AttributeMapping { id } ... on InputError { code message path } } }`,
      { input: { connectionId, mapping } },
    );
    unwrap(`addAttributeMapping ${String(mapping.column)}`, r.addAttributeMapping);
  }
}

export async function createLicense(api: AdminApi, name: string, seats: number | null): Promise<string> {
  const r = await api.gql<{ createLicense: Union }>(
    `mutation($input: CreateLicenseInput!) { createLicense(input: $input) {
       __typename ... on License { id } ... on InputError { code message } } }`,
    { input: { name, seats } },
  );
  return unwrap('createLicense', r.createLicense);
}

/**
 * The contacts page query, shaped from schema.graphql as it is when the bench runs; `missing` says
 * why there is none (Query.contacts not there yet). The selection asks for what the issue names
 * (id, fullName, email, user { username licenses { name } }, totalCount) as far as the schema has
 * those fields, for a Relay connection (edges/node) or a plain list alike.
 */
export function contactsQuery(
  schemaFile: string,
): { query: string; withoutTotal: string | null } | { missing: string } {
  const schema = buildSchema(readFileSync(schemaFile, 'utf8'));
  const field = schema.getQueryType()?.getFields().contacts;
  if (!field) return { missing: 'contacts query not available yet' };
  if (!field.args.some((a) => a.name === 'first'))
    return { missing: 'contacts query has no `first` argument' };
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  if (required.some((a) => a.name !== 'first')) {
    return { missing: `contacts query needs arguments: ${required.map((a) => a.name).join(', ')}` };
  }
  const result = getNamedType(field.type);
  if (!isObjectType(result)) return { missing: 'contacts query returns no object type' };
  const edges = result.getFields().edges;
  const node = edges ? objectField(getNamedType(edges.type), 'node') : null;
  const contactType = node ? getNamedType(node.type) : result;
  let body = select(contactType, ['id', 'fullName', 'email']);
  const user = objectField(contactType, 'user');
  if (user) {
    const licenses = objectField(getNamedType(user.type), 'licenses');
    const licenseSelection = licenses ? ` licenses { ${select(getNamedType(licenses.type), ['name'])} }` : '';
    body += ` user { ${select(getNamedType(user.type), ['username'])}${licenseSelection} }`;
  }
  const page = edges ? `edges { node { ${body} } }` : body;
  const query = (selection: string) => `query { contacts(first: 50) { ${selection} } }`;
  // The same page without the exact count, to show what the count costs at this size.
  return result.getFields().totalCount
    ? { query: query(`${page} totalCount`), withoutTotal: query(page) }
    : { query: query(page), withoutTotal: null };
}

function objectField(type: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | null {
  return isObjectType(type) ? (type.getFields()[name] ?? null) : null;
}

function select(type: GraphQLNamedType, wanted: string[]): string {
  if (!isObjectType(type)) return '__typename';
  const fields = type.getFields();
  const present = wanted.filter((f) => fields[f]);
  return present.length > 0 ? present.join(' ') : '__typename';
}

/**
 * License and role rules as an admin of a real tenant sets them: a license for everyone, one for a
 * group's members, one by an expression over the department (a third license, created here), and
 * two group → role rules. Each sign-in then evaluates them all; the expression runs in the workers
 * beside the mappings' transforms.
 */
export async function addRules(
  api: AdminApi,
  connectionId: string,
  licenses: { everyone: string; group: string },
): Promise<void> {
  const sales = await createLicense(api, 'Sales tools', null);
  // Every bench person is in group guid(7, 3) and in one of guid(i % 5, 2): see people.ts.
  const group = guid;
  const r = await api.gql<{ setLicenseRules: { __typename: string; message?: string } }>(
    `mutation($c: ID!, $rules: [LicenseRuleInput!]!) { setLicenseRules(connectionId: $c, rules: $rules, force: true) {
       __typename ... on InputError { message } } }`,
    {
      c: connectionId,
      rules: [
        { licenseId: licenses.everyone, kind: 'EVERYONE' },
        { licenseId: licenses.group, kind: 'GROUP', groupValue: group(7, 3), revokeUnmatched: true },
        {
          licenseId: sales,
          kind: 'EXPRESSION',
          expression: `$attributes."${EntraClaims.department}"[0] = 'D043'`,
        },
      ],
    },
  );
  if (r.setLicenseRules.__typename !== 'MutationSetLicenseRulesSuccess') {
    throw new Error(`setLicenseRules: ${r.setLicenseRules.message}`);
  }
  for (const [name, g] of [
    ['reader', group(7, 3)],
    ['team-lead', group(1, 2)],
  ] as const) {
    const role = await api.gql<{ createRole: Union }>(
      `mutation($name: String!) { createRole(input: { name: $name }) { __typename ... on Role { id } ... on InputError { code message } } }`,
      { name },
    );
    const roleId = unwrap('createRole', role.createRole);
    const existing = await api.gql<{ node: { roleRules: { groupValue: string; role: { id: string } }[] } }>(
      `query($c: ID!) { node(id: $c) { ... on IdpConnection { roleRules { groupValue role { id } } } } }`,
      { c: connectionId },
    );
    const all = [
      ...existing.node.roleRules.map((x) => ({ groupValue: x.groupValue, roleId: x.role.id })),
      { groupValue: g, roleId },
    ];
    const set = await api.gql<{ setRoleRules: { __typename: string; message?: string } }>(
      `mutation($c: ID!, $rules: [RoleRuleInput!]!) { setRoleRules(connectionId: $c, rules: $rules, force: true) {
         __typename ... on InputError { message } } }`,
      { c: connectionId, rules: all },
    );
    if (set.setRoleRules.__typename !== 'MutationSetRoleRulesSuccess') {
      throw new Error(`setRoleRules: ${set.setRoleRules.message}`);
    }
  }
}
