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
