import { p } from '@mikro-orm/core';

// Database defaults too, not only onCreate hooks: em.upsert and raw inserts skip the hooks.
export const createdAtProperty = () =>
  p
    .datetime()
    .defaultRaw('now()')
    .onCreate(() => new Date());

export const updatedAtProperty = () =>
  p
    .datetime()
    .defaultRaw('now()')
    .onCreate(() => new Date())
    .onUpdate(() => new Date());
