import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsList } from '../../migrations/index.js';
import { printedSchema } from '../../src/schema.js';
import { CONTACT_FIELDS } from '../../src/users/contact-fields.js';
import { Contact } from '../../src/users/user.entity.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

describe('schema.graphql', () => {
  it('is exactly what the code prints (run `npm run schema:print` after changing the API)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printedSchema());
  });
});

describe('migrations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('bring an empty database to exactly the schema the entities declare', async () => {
    const diff = await t.orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true });
    expect(diff.trim()).toBe('');
  });

  it('are all listed, in file-name order', () => {
    const files = readdirSync(new URL('../../migrations/', import.meta.url))
      .filter((f) => /^Migration\d{14}_.+\.ts$/.test(f))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(migrationsList.map((m) => m.name)).toEqual(files);
  });
});

describe('contact-field catalog', () => {
  it('names exactly the contact columns the entity declares (custom holds the admin-defined fields)', () => {
    const props = Object.keys(Contact.meta.properties).filter(
      (p) => !['id', 'user', 'createdAt', 'updatedAt', 'custom'].includes(p),
    );
    expect(CONTACT_FIELDS.map((f) => f.name).sort()).toEqual(props.sort());
    for (const f of CONTACT_FIELDS) {
      const prop = Contact.meta.properties[f.name as keyof typeof Contact.meta.properties] as {
        length?: number;
      };
      if (!f.multiValued) expect(prop.length, f.name).toBe(f.maxLength);
    }
  });
});
