import { AdminAuditEvent } from '../audit/admin-audit.entity.js';
import { ProvisioningEvent } from '../audit/provisioning-event.entity.js';
import { Session } from '../auth/session.entity.js';
import { License, LicenseGrant } from '../licenses/license.entity.js';
import { AttributeMapping } from '../mapping/mapping.entity.js';
import { AuthnRequest } from '../saml/authn-request.entity.js';
import { ConsumedAssertion, IdpConnection } from '../saml/connection.entity.js';
import { Contact, User } from '../users/user.entity.js';

/** The explicit entity list: no folder scanning, so tsx, vitest and compiled node agree. */
export const entities = [
  IdpConnection,
  ConsumedAssertion,
  AuthnRequest,
  User,
  Contact,
  License,
  LicenseGrant,
  AttributeMapping,
  Session,
  ProvisioningEvent,
  AdminAuditEvent,
];
