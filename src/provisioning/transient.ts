import { isConnectionFailure, isRetryable } from '../db/errors.js';

/**
 * Transient database failures the provisioning loop (provision.ts) runs again: serialization
 * failures (40001) and deadlocks (40P01) abort the whole transaction, so running it again is safe.
 * Running it again at once meets the same concurrent transaction; a short, growing, jittered pause
 * lets it finish first. Bounded by the loop's attempts (5): at most ~150 ms of pauses in all.
 */
const BASE_MS = 5;
const CAP_MS = 80;

/** The pause before attempt `attempt + 1` (full jitter: 0 … min(cap, base·2^attempt) ms). */
export function transientDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(CAP_MS, BASE_MS * 2 ** attempt));
}

export function transientPause(attempt: number): Promise<void> {
  const ms = transientDelayMs(attempt);
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

/** Connections lost inside one sign-in that are retried on a fresh connection (beyond: 503). */
const MAX_LOST_CONNECTIONS = 3;

/**
 * Which failures one sign-in runs again: serialization failures and deadlocks (after a pause), and
 * a database connection lost mid-attempt (on a fresh connection from the pool, at most 3 times).
 * A lost connection may have lost the answer of a commit: `connectionLost` tells the loop to check
 * for its own committed attempt (committedBySession) before calling a replay a replay.
 */
export class TransientRetries {
  private lost = 0;
  get connectionLost(): boolean {
    return this.lost > 0;
  }

  /** true: run the attempt again (the pause taken). */
  async again(e: unknown, attempt: number): Promise<boolean> {
    if (isRetryable(e)) {
      await transientPause(attempt);
      return true;
    }
    if (isConnectionFailure(e) && this.lost < MAX_LOST_CONNECTIONS) {
      this.lost++;
      await transientPause(attempt);
      return true;
    }
    return false;
  }
}
