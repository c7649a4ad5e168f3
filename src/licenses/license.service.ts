import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, parseInput } from '../errors.js';
import { User } from '../users/user.entity.js';
import { License, LicenseGrant } from './license.entity.js';
import { releaseSeats, takeSeats } from './licenses.sql.js';

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
  const changes: Partial<Pick<License, 'name' | 'active' | 'seats'>> = {};
  if (input.name) changes.name = input.name;
  if (input.active !== null && input.active !== undefined) changes.active = input.active;
  if (input.unlimited) changes.seats = null;
  const seats = input.seats ?? null;
  if (seats !== null) changes.seats = seats;
  if (Object.keys(changes).length > 0) {
    let updated: number;
    try {
      // One conditional UPDATE: a limit below the seats in use matches no row.
      updated = await em.nativeUpdate(
        License,
        seats !== null ? { id, used: { $lte: seats } } : { id },
        changes,
      );
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AppError('CONFLICT', `a license named "${input.name}" already exists`, {
          path: ['input', 'name'],
        });
      }
      throw e;
    }
    if (updated === 0) {
      const now = await em.findOneOrFail(License, { id }, { refresh: true });
      throw new AppError(
        'LICENSE_SEATS_IN_USE',
        `${now.used} seats are in use; the limit cannot go below that (revoke grants first)`,
        { path: ['input', 'seats'], used: now.used },
      );
    }
  }
  return em.findOneOrFail(License, { id }, { refresh: true });
}

/** Grants a license to a user, taking a seat atomically (never oversubscribed). */
export async function grantLicense(em: EntityManager, licenseId: string, userId: string): Promise<void> {
  if ((await em.count(User, { id: userId })) === 0) {
    throw new AppError('NOT_FOUND', 'no user has this id', { path: ['input', 'userId'] });
  }
  if ((await em.count(LicenseGrant, { license: licenseId, user: userId })) > 0) {
    throw new AppError('CONFLICT', 'the user already holds this license', { path: ['input', 'licenseId'] });
  }
  let granted: { id: string }[];
  try {
    granted = await takeSeats(em, userId, [licenseId]);
  } catch (e) {
    // Another grant of the same license to the same user committed first.
    if (isUniqueViolation(e)) {
      throw new AppError('CONFLICT', 'the user already holds this license', { path: ['input', 'licenseId'] });
    }
    throw e;
  }
  if (granted.length === 0) {
    throw (await em.count(License, { id: licenseId })) === 0
      ? new AppError('NOT_FOUND', 'no license has this id', { path: ['input', 'licenseId'] })
      : new AppError('LICENSE_NO_SEAT', 'the license is inactive or has no free seat', {
          path: ['input', 'licenseId'],
        });
  }
}

/** Revokes a grant and frees its seat. */
export async function revokeLicense(em: EntityManager, licenseId: string, userId: string): Promise<void> {
  const released = await releaseSeats(em, userId, [licenseId]);
  if (released.length === 0) {
    throw new AppError('NOT_FOUND', 'the user does not hold this license', { path: ['input', 'licenseId'] });
  }
}
