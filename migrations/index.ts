import type { Constructor } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import { Migration20261129000000Init } from './Migration20261129000000_init.js';

/** Append-only. Every file in this folder is listed here (a test holds them in step). */
export const migrationsList: { name: string; class: Constructor<Migration> }[] = [
  { name: 'Migration20261129000000_init', class: Migration20261129000000Init },
];
