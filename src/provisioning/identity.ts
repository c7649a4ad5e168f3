import type { AppError } from '../errors.js';
import type { TransformResult } from '../mapping/transform-calls.js';

/** The road a provisioning came by: a sign-in's SAML assertion, or a SCIM write. */
export type Source = 'saml' | 'scim';

/** How it reached us, as the audit rows record it. */
export type Via = 'ACS_POST' | 'GRAPHQL' | 'SCIM';

/** A person as a road has verified them, in the terms of no protocol. */
export interface Identity {
  /**
   * The stable key the road itself knows the person by (a SCIM externalId), if any. A SAML road
   * leaves it out: the core takes the key the connection names (IdpConnection.identityKey) from
   * the attributes, or binds by username.
   */
  key?: string;
  /** The account name: the NameID a SAML IdP sends. */
  username: string;
  /** Every attribute by its exact name, each as a list of values. */
  attributes: Record<string, string[]>;
  /**
   * The person's groups (the connection's groups attribute); null when the road knows they are
   * incomplete (Entra's group overage): roles and group rules then keep what the person holds.
   */
  groups: string[] | null;
}

/** Whom an audit row is about; filled as far as it is known (a refusal may come before the identity). */
export interface Subject {
  issuer: string | null;
  nameId: string | null;
  credentialId: string | null;
}

/**
 * A credential that may be used once (a SAML assertion): recorded in the provisioning transaction,
 * so that a second use, in any process, is refused with the road's own error.
 */
export interface Credential {
  issuer: string;
  id: string;
  expiresAt: Date;
  replayed(): AppError;
}

/** What a road hands the core for one configuration of the connection. */
export interface Identified {
  identity: Identity;
  subject: Subject;
  credential?: Credential;
  /**
   * The results of the configuration's transforms, in order (see ConnectionConfig.transforms),
   * when the road ran them beside its own work; otherwise the core runs them.
   */
  transforms?: readonly TransformResult[];
  /** Wall time the road spent, and of it the transforms it ran. */
  timings: { identifyMs: number; transformsMs: number };
}
