import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { EntraClaims, type TestIdp } from './idp.js';
import { gql } from './test-app.js';

/** Creates a connection for the IdP through the admin API and returns its global id. */
export async function createConnection(
  app: Pick<App, 'fetch'>,
  idp: TestIdp,
  options: Record<string, unknown> = {},
): Promise<string> {
  const r = await gql<{ createConnection: { __typename: string; id?: string; message?: string } }>(
    app,
    `mutation($input: CreateConnectionInput!) {
      createConnection(input: $input) {
        __typename
        ... on IdpConnection { id }
        ... on InputError { code message path }
      }
    }`,
    { input: { name: `IdP ${idp.entityId}`, metadataXml: idp.metadata(), ...options } },
  );
  expect(r.errors).toBeUndefined();
  expect(r.data?.createConnection.__typename).toBe('IdpConnection');
  return r.data!.createConnection.id!;
}

export async function addMapping(
  app: Pick<App, 'fetch'>,
  connectionId: string,
  attributeName: string,
  column: string,
  required = false,
  options: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const r = await gql<{ addAttributeMapping: Record<string, unknown> }>(
    app,
    `mutation($input: AddAttributeMappingInput!) {
      addAttributeMapping(input: $input) {
        __typename
        ... on AttributeMapping { id column attributeName position }
        ... on InputError { code message path }
      }
    }`,
    { input: { connectionId, mapping: { attributeName, column, required, ...options } } },
  );
  expect(r.errors).toBeUndefined();
  return r.data!.addAttributeMapping;
}

/** The Entra claim mappings a typical admin sets up. */
export async function addEntraMappings(app: Pick<App, 'fetch'>, connectionId: string): Promise<void> {
  for (const [claim, column] of [
    [EntraClaims.givenName, 'givenName'],
    [EntraClaims.surname, 'surname'],
    [EntraClaims.emailAddress, 'email'],
    [EntraClaims.displayName, 'fullName'],
    [EntraClaims.groups, 'groups'],
  ] as const) {
    const m = await addMapping(app, connectionId, claim, column, column === 'email');
    expect(m.__typename).toBe('AttributeMapping');
  }
}

export async function createLicense(
  app: Pick<App, 'fetch'>,
  name: string,
  seats: number | null,
): Promise<string> {
  const r = await gql<{ createLicense: { __typename: string; id: string } }>(
    app,
    `mutation($input: CreateLicenseInput!) {
      createLicense(input: $input) { __typename ... on License { id } ... on InputError { code message } }
    }`,
    { input: { name, seats } },
  );
  expect(r.data?.createLicense.__typename).toBe('License');
  return r.data!.createLicense.id;
}
