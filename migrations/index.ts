import type { Constructor } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import { Migration20261129000000Init } from './Migration20261129000000_init.js';
import { Migration20261129090000MappingEngine } from './Migration20261129090000_mapping_engine.js';
import { Migration20261129100000Saml } from './Migration20261129100000_saml.js';
import { Migration20261129110000Directory } from './Migration20261129110000_directory.js';
import { Migration20261129120000Admin } from './Migration20261129120000_admin.js';
import { Migration20261129130000ConfigVersion } from './Migration20261129130000_config_version.js';
import { Migration20261129140000SignInFunction } from './Migration20261129140000_sign_in_function.js';
import { Migration20261203090000ProvisioningFunctions } from './Migration20261203090000_provisioning_functions.js';
import { Migration20261203120000MappingSafety } from './Migration20261203120000_mapping_safety.js';
import { Migration20261203140000IdentityLifecycle } from './Migration20261203140000_identity_lifecycle.js';
import { Migration20261203150000AdminTokens } from './Migration20261203150000_admin_tokens.js';
import { Migration20261203170000Scim } from './Migration20261203170000_scim.js';
import { Migration20261203190000AuthnRequestConsumer } from './Migration20261203190000_authn_request_consumer.js';

/** Append-only. Every file in this folder is listed here (a test holds them in step). */
export const migrationsList: { name: string; class: Constructor<Migration> }[] = [
  { name: 'Migration20261129000000_init', class: Migration20261129000000Init },
  { name: 'Migration20261129090000_mapping_engine', class: Migration20261129090000MappingEngine },
  { name: 'Migration20261129100000_saml', class: Migration20261129100000Saml },
  { name: 'Migration20261129110000_directory', class: Migration20261129110000Directory },
  { name: 'Migration20261129120000_admin', class: Migration20261129120000Admin },
  { name: 'Migration20261129130000_config_version', class: Migration20261129130000ConfigVersion },
  { name: 'Migration20261129140000_sign_in_function', class: Migration20261129140000SignInFunction },
  {
    name: 'Migration20261203090000_provisioning_functions',
    class: Migration20261203090000ProvisioningFunctions,
  },
  { name: 'Migration20261203120000_mapping_safety', class: Migration20261203120000MappingSafety },
  { name: 'Migration20261203140000_identity_lifecycle', class: Migration20261203140000IdentityLifecycle },
  { name: 'Migration20261203150000_admin_tokens', class: Migration20261203150000AdminTokens },
  { name: 'Migration20261203170000_scim', class: Migration20261203170000Scim },
  {
    name: 'Migration20261203190000_authn_request_consumer',
    class: Migration20261203190000AuthnRequestConsumer,
  },
];
