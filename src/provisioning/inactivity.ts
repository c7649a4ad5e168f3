import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { applyInactivity } from './inactivity.sql.js';

/** Users one run acts on at most; the next run takes the rest. */
const BATCH = 1000;

export interface InactivityRun {
  /** false: another process was running the policy (its advisory lock was held). */
  ran: boolean;
  blocked: number;
  seatsReleased: number;
  users: { userId: string; username: string; blocked: boolean; released: string[] }[];
}

/**
 * The inactivity policy (per connection: block people who have not signed in for N days, and/or
 * give back their seats), run in the server on a schedule. Several processes may run it at once:
 * a PostgreSQL advisory lock lets one act and makes the others' runs no-ops.
 */
export function createInactivityPolicy(deps: { orm: MikroORM; logger: Logger }) {
  async function run(): Promise<InactivityRun> {
    const done = await deps.orm.em.fork().transactional((tx) => applyInactivity(tx, BATCH));
    if (done === null) return { ran: false, blocked: 0, seatsReleased: 0, users: [] };
    const result = {
      ran: true,
      blocked: done.filter((u) => u.blocked).length,
      seatsReleased: done.reduce((n, u) => n + u.released.length, 0),
      users: done,
    };
    if (done.length > 0) {
      deps.logger.info(
        { blocked: result.blocked, seatsReleased: result.seatsReleased },
        'inactivity policy applied',
      );
    }
    return result;
  }

  /** Runs the policy every `intervalMs` (0: never); returns the stop function. */
  function schedule(intervalMs: number): () => void {
    if (intervalMs <= 0) return () => {};
    const timer = setInterval(() => {
      run().catch((err: unknown) => deps.logger.warn({ err }, 'inactivity policy run failed'));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  return { run, schedule };
}
export type InactivityPolicy = ReturnType<typeof createInactivityPolicy>;
