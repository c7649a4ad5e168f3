import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './graphql/builder.js';
import './graphql/scalars.js';
import './graphql/errors.graphql.js';
import './mapping/mapping.graphql.js';
import './mapping/contact-fields.graphql.js';
import './connections/connection.graphql.js';
import './licenses/license.graphql.js';
import './users/user.graphql.js';
import './users/directory.graphql.js';
import './users/user-admin.graphql.js';
import './users/roles.graphql.js';
import './users/admin-tokens.graphql.js';
import './licenses/license-rules.graphql.js';
import './provisioning/inactivity.graphql.js';
import './scim/scim.graphql.js';
import './sign-in/acs.graphql.js';
import './sign-in/preview.graphql.js';
import './audit/audit.graphql.js';

export const schema = builder.toSchema();

/** The committed schema.graphql is this text; a test fails when the two drift. */
export const printedSchema = (): string => `${printSchema(lexicographicSortSchema(schema))}\n`;
