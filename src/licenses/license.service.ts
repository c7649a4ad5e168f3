import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { isUniqueViolation, parseInput } from '../graphql/zod.js';
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
