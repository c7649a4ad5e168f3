import { randomUUID } from 'node:crypto';
import { escapeXml, pemToBase64 } from '../../src/saml/xml.js';
import { EntraClaims } from './claims.js';

export interface EntraMetadataOptions {
  /** e.g. https://sts.windows.net/<tenant-guid>/ */
  entityId: string;
  /** e.g. https://login.microsoftonline.com/<tenant-guid>/saml2 */
  ssoUrl: string;
  /** Signing certificates; more than one while a certificate rolls over. */
  certPems: string[];
}

const FED = 'http://docs.oasis-open.org/wsfed/federation/200706';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const WSA = 'http://www.w3.org/2005/08/addressing';
const AUTH = 'http://docs.oasis-open.org/wsfed/authorization/200706';

const OFFERED_CLAIMS: [uri: string, displayName: string, description: string][] = [
  [EntraClaims.name, 'Name', 'The mutable display name of the user.'],
  [EntraClaims.objectIdentifier, 'Object Identifier', 'The immutable identifier of the user.'],
  [EntraClaims.tenantId, 'Tenant Identifier', 'The identifier of the tenant.'],
  [EntraClaims.givenName, 'Given Name', 'First name of the user.'],
  [EntraClaims.surname, 'Surname', 'Last name of the user.'],
  [EntraClaims.displayName, 'Display Name', 'Display name of the user.'],
  [EntraClaims.emailAddress, 'Email', 'Email address of the user.'],
  [EntraClaims.groups, 'Groups', 'Groups of the user.'],
  [EntraClaims.identityProvider, 'External Identity Provider', 'The identity provider of the user.'],
  [EntraClaims.role, 'Role', 'Roles of the user.'],
  [EntraClaims.authnMethodsReferences, 'Authentication Methods References', 'How the user authenticated.'],
];

/**
 * Federation metadata in the layout Entra publishes (minus its enveloped ds:Signature): two WS-Fed
 * RoleDescriptors, each with its own KeyDescriptors, before the SAML IDPSSODescriptor, so readers
 * must pick the IDPSSODescriptor's keys rather than the first X509Certificate in the document.
 */
export function buildEntraMetadata(opts: EntraMetadataOptions): string {
  if (opts.certPems.length === 0) throw new Error('metadata needs at least one certificate');
  const keys = opts.certPems.map((pem) => keyDescriptor(pemToBase64(pem))).join('');
  const sso = escapeXml(opts.ssoUrl);
  // Entra serves WS-Fed next to SAML: .../<tenant>/wsfed beside .../<tenant>/saml2.
  const wsfed = escapeXml(opts.ssoUrl.replace(/\/saml2$/, '/wsfed'));
  const entityId = escapeXml(opts.entityId);
  const roleOpen = (type: string) =>
    `<RoleDescriptor xsi:type="fed:${type}" protocolSupportEnumeration="${FED}"` +
    ` xmlns:xsi="${XSI}" xmlns:fed="${FED}">`;
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<EntityDescriptor ID="_${randomUUID()}" entityID="${entityId}" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` +
    roleOpen('SecurityTokenServiceType') +
    keys +
    `<fed:ClaimTypesOffered>${OFFERED_CLAIMS.map(claimType).join('')}</fed:ClaimTypesOffered>` +
    `<fed:SecurityTokenServiceEndpoint>${endpoint(wsfed)}</fed:SecurityTokenServiceEndpoint>` +
    `<fed:PassiveRequestorEndpoint>${endpoint(wsfed)}</fed:PassiveRequestorEndpoint>` +
    '</RoleDescriptor>' +
    roleOpen('ApplicationServiceType') +
    keys +
    `<fed:TargetScopes>${endpoint(entityId)}</fed:TargetScopes>` +
    `<fed:ApplicationServiceEndpoint>${endpoint(wsfed)}</fed:ApplicationServiceEndpoint>` +
    `<fed:PassiveRequestorEndpoint>${endpoint(wsfed)}</fed:PassiveRequestorEndpoint>` +
    '</RoleDescriptor>' +
    '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
    keys +
    `<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${sso}"/>` +
    `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${sso}"/>` +
    `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${sso}"/>` +
    '</IDPSSODescriptor></EntityDescriptor>'
  );
}

function keyDescriptor(certBase64: string): string {
  return (
    '<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#">' +
    `<X509Data><X509Certificate>${certBase64}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`
  );
}

function endpoint(escapedAddress: string): string {
  return `<wsa:EndpointReference xmlns:wsa="${WSA}"><wsa:Address>${escapedAddress}</wsa:Address></wsa:EndpointReference>`;
}

function claimType([uri, displayName, description]: [string, string, string]): string {
  return (
    `<auth:ClaimType Uri="${escapeXml(uri)}" xmlns:auth="${AUTH}">` +
    `<auth:DisplayName>${escapeXml(displayName)}</auth:DisplayName>` +
    `<auth:Description>${escapeXml(description)}</auth:Description></auth:ClaimType>`
  );
}
