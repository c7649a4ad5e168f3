import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logger.js';

describe('logs', () => {
  it('keep SQL statements but not the personal data or tokens inside driver errors', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += chunk;
        done();
      },
    });
    const logger = createLogger('info', sink);
    const cause = new Error(
      `insert into contact (user_id, "given_name", "email") values ('4f1c', 'Zoë', 'zoe@contoso.example') - value too long`,
    );
    logger.error(
      {
        err: new Error('sign-in failed', { cause }),
        sessionToken: 'jps_secretsecret',
        authorization: 'Bearer x',
      },
      'oops',
    );
    expect(out).toContain('insert into contact');
    expect(out).not.toContain('zoe@contoso.example');
    expect(out).not.toContain('Zoë');
    expect(out).not.toContain('jps_secretsecret');
    expect(out).not.toContain('Bearer x');
  });
});
