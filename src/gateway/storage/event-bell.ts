// The event bell: a committed event rings its merchant's bell (a PostgreSQL NOTIFY in the event's own
// insert, storage/events.ts; sent at commit, so a rolled-back event never rings), and an open event
// stream waits on it instead of polling. Across nodes the NOTIFY reaches every gateway process. A lost
// ring costs latency only: a waiting stream also looks again after its heartbeat interval.
import { sql, type SQL } from 'drizzle-orm';
import type { Database, Unlisten } from '../../platform/db/database.ts';

/** The NOTIFY channel of the bell; the payload is the merchant's id. */
export const EVENT_BELL_CHANNEL = 'gateway_events';

/**
 * Takes the advisory lock that serialises a merchant's feed appends until commit, so cursors become
 * visible in order: a statement of its own, or the first CTE of the append's statement.
 */
export const feedLock = (merchantId: string): SQL =>
  sql`select pg_advisory_xact_lock(hashtextextended(${`gateway:events:${merchantId}`}, 0))`;

export interface EventBell {
  /** Resolves when the merchant's bell rings, after `ms`, or at close, whichever comes first. */
  wait(merchantId: string, ms: number): Promise<void>;
  /** Whether the bell is closed (the process is stopping: streams end). */
  readonly closed: boolean;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A bell listening on the database's notifications. */
export function createEventBell(database: Database): EventBell {
  const waiters = new Map<string, Set<() => void>>();
  let unlisten: Unlisten | undefined;
  let closed = false;
  const ring = (merchantId: string) => {
    for (const wake of waiters.get(merchantId) ?? []) wake();
  };
  return {
    get closed() {
      return closed;
    },
    async start() {
      unlisten = await database.listen(EVENT_BELL_CHANNEL, ring);
    },
    wait(merchantId, ms) {
      if (closed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const set = waiters.get(merchantId) ?? new Set();
        waiters.set(merchantId, set);
        const wake = () => {
          clearTimeout(timer);
          set.delete(wake);
          if (set.size === 0) waiters.delete(merchantId);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        set.add(wake);
      });
    },
    async close() {
      closed = true;
      for (const merchantId of [...waiters.keys()]) ring(merchantId);
      await unlisten?.();
    },
  };
}
