// Register recurring jobs: one row per task, keyed 'recurring:<task>', upserted so that any number
// of nodes registering the same schedule at start leaves one row (the last registration's period).
import { sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Executor } from '../db/database.ts';
import { jobs } from './jobs.schema.ts';

export interface RecurringJob {
  readonly task: string;
  /** Seconds between the end of one successful run and the next run. */
  readonly everySeconds: number;
  readonly payload?: unknown;
}

/** The dedupe key of a recurring task's row. */
export function recurringKey(task: string): string {
  return `recurring:${task}`;
}

/** Upserts the recurring jobs; a new one is due at once, an existing one keeps its schedule. */
export async function registerRecurring(
  executor: Executor,
  recurring: readonly RecurringJob[],
  clock: Clock = systemClock,
): Promise<void> {
  const now = clock.now();
  for (const r of recurring) {
    if (!Number.isInteger(r.everySeconds) || r.everySeconds < 1) {
      throw new RangeError(`recurring job ${r.task}: everySeconds must be an integer ≥ 1, got ${r.everySeconds}`);
    }
    await executor
      .insert(jobs)
      .values({
        id: newId('job', now),
        task: r.task,
        payload: r.payload ?? {},
        status: 'pending',
        runAt: now,
        repeatSeconds: r.everySeconds,
        key: recurringKey(r.task),
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: jobs.key,
        set: { repeatSeconds: sql`excluded.repeat_seconds`, updatedAt: now },
      });
  }
}
