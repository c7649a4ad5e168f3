import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, parseInput } from '../errors.js';
import { License } from './license.entity.js';

export const CreateLicenseInput = z.object({
  name: z.string().trim().min(1).max(200),
  seats: z.number().int().min(0).max(10_000_000).nullish(),
});

export async function createLicense(em: EntityManager, raw: unknown): Promise<License> {
  const input = parseInput(CreateLicenseInput, raw);
  const license = em.create(License, { name: input.name, seats: input.seats ?? null, used: 0, active: true });
  try {
    await em.flush();
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new AppError('CONFLICT', `a license named "${input.name}" already exists`, {
        path: ['input', 'name'],
      });
    }
    throw e;
  }
  return license;
}

type Row = Record<string, unknown>;

export const UpdateLicenseInput = z.object({
  name: z.string().trim().min(1).max(200).nullish(),
  seats: z.number().int().min(0).max(10_000_000).nullish(),
  /** Explicitly remove the seat limit. */
  unlimited: z.boolean().nullish(),
  active: z.boolean().nullish(),
});

/**
 * Changes a license. The seat limit is changed by one conditional UPDATE that refuses a limit
 * below the seats in use, so it cannot race a sign-in taking a seat.
 */
export async function updateLicense(em: EntityManager, id: string, raw: unknown): Promise<License> {
  const input = parseInput(UpdateLicenseInput, raw);
  const before = await em.findOne(License, { id }, { refresh: true });
  if (!before) throw new AppError('NOT_FOUND', 'no license has this id', { path: ['input', 'id'] });
  if (input.seats !== null && input.seats !== undefined && input.unlimited) {
    throw new AppError('VALIDATION_FAILED', 'give seats or unlimited, not both', {
      path: ['input', 'unlimited'],
    });
  }
  const sets: string[] = [];
  const params: unknown[] = [];
  const set = (sql: string, ...values: unknown[]) => {
    sets.push(sql);
    params.push(...values);
  };
  if (input.name) set('name = ?', input.name);
  if (input.active !== null && input.active !== undefined) set('active = ?', input.active);
  if (input.unlimited) set('seats = null');
  const seats = input.seats ?? null;
  if (seats !== null) set('seats = ?', seats);
  if (sets.length > 0) {
    let rows: Row[];
    try {
      rows = await em.execute<Row[]>(
        `update license set ${sets.join(', ')} where id = ? ${seats !== null ? 'and used <= ?' : ''} returning id`,
        [...params, id, ...(seats !== null ? [seats] : [])],
      );
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AppError('CONFLICT', `a license named "${input.name}" already exists`, {
          path: ['input', 'name'],
        });
      }
      throw e;
    }
    if (rows.length === 0) {
      const [now] = await em.execute<Row[]>('select used from license where id = ?', [id]);
      throw new AppError(
        'LICENSE_SEATS_IN_USE',
        `${now?.used} seats are in use; the limit cannot go below that (revoke grants first)`,
        { path: ['input', 'seats'], used: now?.used },
      );
    }
  }
  return em.findOneOrFail(License, { id }, { refresh: true });
}

/** Grants a license to a user, taking a seat atomically (never oversubscribed). */
export async function grantLicense(em: EntityManager, licenseId: string, userId: string): Promise<void> {
  const user = await em.execute<Row[]>('select id from app_user where id = ?', [userId]);
  if (user.length === 0)
    throw new AppError('NOT_FOUND', 'no user has this id', { path: ['input', 'userId'] });
  const existing = await em.execute<Row[]>(
    'select 1 from license_grant where license_id = ? and user_id = ?',
    [licenseId, userId],
  );
  if (existing.length > 0) {
    throw new AppError('CONFLICT', 'the user already holds this license', { path: ['input', 'licenseId'] });
  }
  const seat = await em.execute<Row[]>(
    `update license set used = used + 1 where id = ? and active and (seats is null or used < seats) returning id`,
    [licenseId],
  );
  if (seat.length === 0) {
    const found = await em.execute<Row[]>('select 1 from license where id = ?', [licenseId]);
    throw found.length === 0
      ? new AppError('NOT_FOUND', 'no license has this id', { path: ['input', 'licenseId'] })
      : new AppError('LICENSE_NO_SEAT', 'the license is inactive or has no free seat', {
          path: ['input', 'licenseId'],
        });
  }
  try {
    await em.execute('insert into license_grant (license_id, user_id) values (?, ?)', [licenseId, userId]);
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new AppError('CONFLICT', 'the user already holds this license', { path: ['input', 'licenseId'] });
    }
    throw e;
  }
}

/** Revokes a grant and frees its seat. */
export async function revokeLicense(em: EntityManager, licenseId: string, userId: string): Promise<void> {
  const gone = await em.execute<Row[]>(
    'delete from license_grant where license_id = ? and user_id = ? returning id',
    [licenseId, userId],
  );
  if (gone.length === 0) {
    throw new AppError('NOT_FOUND', 'the user does not hold this license', { path: ['input', 'licenseId'] });
  }
  await em.execute('update license set used = used - 1 where id = ?', [licenseId]);
}
