// What an operator asks of a party's job table (`countersign doctor`): jobs due for a while that no
// worker has taken, jobs whose worker's lease ran out without another taking them over, and jobs
// that failed for good recently. Read-only, bounded queries.
import { and, count, desc, eq, gte, lt, min } from 'drizzle-orm';
import type { Executor } from '../db/database.ts';
import { jobs } from './jobs.schema.ts';

export interface JobHealth {
  /** Pending jobs due for more than `stuckAfterSeconds` (no worker takes them). */
  readonly overdue: number;
  readonly oldestDueAt: Date | null;
  /** Running jobs whose lease ended more than `stuckAfterSeconds` ago (their node died, nobody took over). */
  readonly abandoned: number;
  /** Jobs failed for good within `failedWithinSeconds`, the latest few by task. */
  readonly failed: number;
  readonly latestFailed: readonly { id: string; task: string; at: Date }[];
}

/** The job table's health at `now`. */
export async function jobHealth(
  db: Executor,
  now: Date,
  options: { stuckAfterSeconds: number; failedWithinSeconds: number },
): Promise<JobHealth> {
  const stuckBefore = new Date(now.getTime() - options.stuckAfterSeconds * 1000);
  const failedSince = new Date(now.getTime() - options.failedWithinSeconds * 1000);
  const [overdue] = await db
    .select({ n: count(), oldest: min(jobs.runAt) })
    .from(jobs)
    .where(and(eq(jobs.status, 'pending'), lt(jobs.runAt, stuckBefore)));
  const [abandoned] = await db
    .select({ n: count() })
    .from(jobs)
    .where(and(eq(jobs.status, 'running'), lt(jobs.lockedUntil, stuckBefore)));
  const failedWhere = and(eq(jobs.status, 'failed'), gte(jobs.updatedAt, failedSince));
  const [failed] = await db.select({ n: count() }).from(jobs).where(failedWhere);
  const latest = await db
    .select({ id: jobs.id, task: jobs.task, at: jobs.updatedAt })
    .from(jobs)
    .where(failedWhere)
    .orderBy(desc(jobs.updatedAt))
    .limit(5);
  return {
    overdue: Number(overdue?.n ?? 0),
    oldestDueAt: overdue?.oldest ? new Date(overdue.oldest) : null,
    abandoned: Number(abandoned?.n ?? 0),
    failed: Number(failed?.n ?? 0),
    latestFailed: latest,
  };
}
