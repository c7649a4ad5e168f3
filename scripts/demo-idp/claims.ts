/**
 * Claim (SAML Attribute Name) URIs as Microsoft Entra ID emits them. Entra mixes the WS-Federation
 * era xmlsoap namespace, its own identity/claims namespace and the ws/2008/06 namespace, so the
 * exact strings matter: mappings match on them verbatim.
 */
const XMLSOAP = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
const MS_IDENTITY = 'http://schemas.microsoft.com/identity/claims';
const MS_WS_2008 = 'http://schemas.microsoft.com/ws/2008/06/identity/claims';

export const EntraClaims = {
  givenName: `${XMLSOAP}/givenname`,
  surname: `${XMLSOAP}/surname`,
  emailAddress: `${XMLSOAP}/emailaddress`,
  /** The user principal name (UPN), not a display name. */
  name: `${XMLSOAP}/name`,
  displayName: `${MS_IDENTITY}/displayname`,
  /** Group object ids (GUIDs) by default; one Attribute with one AttributeValue per group. */
  groups: `${MS_WS_2008}/groups`,
  /** Sent instead of `groups` when the user is in more than 150 groups: a Graph URL to page through. */
  groupsLink: 'http://schemas.microsoft.com/claims/groups.link',
  /** App roles assigned to the user. */
  role: `${MS_WS_2008}/role`,
  /** Directory (Entra admin) role template ids. */
  wids: `${MS_WS_2008}/wids`,
  tenantId: `${MS_IDENTITY}/tenantid`,
  /** The user's immutable object id: the stable key to match users on, unlike email or UPN. */
  objectIdentifier: `${MS_IDENTITY}/objectidentifier`,
  /** The tenant's own issuer for members; a guest's home IdP otherwise. */
  identityProvider: `${MS_IDENTITY}/identityprovider`,
  authnMethodsReferences: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
  /**
   * Claims an admin adds in the enterprise app's Attributes & Claims page (user.department, …):
   * Entra emits them as namespace + name; in the xmlsoap namespace of its default claims, as the
   * gallery apps' setup guides ask, they are these claim URIs.
   */
  department: `${XMLSOAP}/department`,
  jobTitle: `${XMLSOAP}/jobtitle`,
  employeeId: `${XMLSOAP}/employeeid`,
  /**
   * Directory extension attributes requested as SAML optional claims arrive under the `extn.`
   * prefix (from Microsoft's optional-claims documentation; see `extensionClaim`).
   */
  costCenter: `${MS_IDENTITY}/extn.costcenter`,
} as const;

export function extensionClaim(attributeName: string): string {
  return `${MS_IDENTITY}/extn.${attributeName}`;
}

/** AttributeValues Entra sends in `authnmethodsreferences`. */
export const EntraAuthnMethods = {
  password: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password',
  multipleAuthn: 'http://schemas.microsoft.com/claims/multipleauthn',
} as const;
