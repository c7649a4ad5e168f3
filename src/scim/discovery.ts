import { MAX_RESULTS } from './request.js';
import { ENTERPRISE_SCHEMA, USER_SCHEMA } from './resource.js';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** RFC 7644 §4 discovery: what this service provider supports, honestly (no bulk, no sort, no etags). */
export function discovery(path: string, baseUrl: string): Record<string, unknown> | null {
  const lower = path.toLowerCase();
  if (lower === '/serviceproviderconfig') {
    return {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      documentationUri: 'https://github.com/jitprov/jitprov#scim',
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: MAX_RESULTS },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [
        {
          type: 'oauthbearertoken',
          name: 'Bearer token',
          description: 'A per-connection SCIM token (createScimToken)',
          primary: true,
        },
      ],
      meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
    };
  }
  if (lower === '/resourcetypes') {
    return {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 2,
      Resources: [
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
          id: 'Group',
          name: 'Group',
          endpoint: '/Groups',
          schema: GROUP_SCHEMA,
          meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
        },
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
          id: 'User',
          name: 'User',
          endpoint: '/Users',
          schema: USER_SCHEMA,
          schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
          meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
        },
      ],
    };
  }
  if (lower === '/schemas') {
    const attr = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      type: 'string',
      multiValued: false,
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
      ...extra,
    });
    return {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 3,
      Resources: [
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
          id: GROUP_SCHEMA,
          name: 'Group',
          attributes: [
            attr('displayName', { required: true }),
            attr('externalId', { caseExact: true }),
            {
              ...attr('members', { type: 'complex', multiValued: true }),
              subAttributes: [
                attr('value', { caseExact: true }),
                attr('display', { mutability: 'readOnly' }),
              ],
            },
          ],
        },
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
          id: USER_SCHEMA,
          name: 'User',
          attributes: [
            attr('userName', { required: true, uniqueness: 'server' }),
            attr('externalId', { caseExact: true }),
            attr('displayName'),
            attr('title'),
            attr('active', { type: 'boolean' }),
            {
              ...attr('name', { type: 'complex' }),
              subAttributes: ['givenName', 'familyName', 'formatted'].map((n) => attr(n)),
            },
            {
              ...attr('emails', { type: 'complex', multiValued: true }),
              subAttributes: [attr('value'), attr('type'), attr('primary', { type: 'boolean' })],
            },
            {
              ...attr('phoneNumbers', { type: 'complex', multiValued: true }),
              subAttributes: [attr('value'), attr('type'), attr('primary', { type: 'boolean' })],
            },
          ],
        },
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
          id: ENTERPRISE_SCHEMA,
          name: 'EnterpriseUser',
          attributes: [
            attr('employeeNumber'),
            attr('department'),
            attr('costCenter'),
            attr('organization'),
            attr('division'),
            { ...attr('manager', { type: 'complex' }), subAttributes: [attr('value')] },
          ],
        },
      ],
    };
  }
  return null;
}
