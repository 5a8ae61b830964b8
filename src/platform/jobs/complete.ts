// Complete: records a successful run (succeeded, or the next recurrence of a recurring job). The
// worker hands the freed slot over in the same statement: the completion and the claim of the next
// due job are one round trip, and when nothing is due the claim costs nothing more than the completion.
//
//   with settled as (update jobs set status = 'succeeded', … where <held by this claim> returning id),
//        claimed as (update jobs set status = 'running', … where id in (<due, not this job, skip locked, limit n>) returning *),
//        settled_count as (select count(*) as n from settled)
//   select n, claimed.* from claimed right join settled_count on true
//
// Both updates see the statement's one snapshot. The claim leaves out the job being completed by
// name: its lease may have run out, and two updates of one row in one statement have no defined
// outcome in PostgreSQL.
import { sql } from 'drizzle-orm';
import { systemClock, type Clock } from '../clock.ts';
import { tableFieldsOf, type Executor } from '../db/database.ts';
import { claimStatement, type ClaimOptions } from './claim.ts';
import { outcomeOnSuccess, type Job } from './job-state.ts';
import { jobs } from './jobs.schema.ts';
import { settleJob, settleStatement } from './settle.ts';

type Completed = Pick<Job, 'id' | 'lockedBy' | 'attempts' | 'runAt' | 'repeatSeconds'>;

/** Marks a held job done; false (and nothing written) when this worker no longer holds it. */
export async function completeJob(executor: Executor, job: Completed, clock: Clock = systemClock): Promise<boolean> {
  if (job.lockedBy === null) return false;
  const now = clock.now();
  return settleJob(
    executor,
    { id: job.id, lockedBy: job.lockedBy, attempts: job.attempts },
    outcomeOnSuccess(job, now),
    null,
    now,
  );
}

/**
 * Marks a held job done and, in the same statement, claims up to `next.limit` due jobs for the
 * worker. `completed` is completeJob's answer; the claimed jobs are held whether or not it completed.
 */
export async function completeJobAndClaim(
  executor: Executor,
  job: Completed,
  next: ClaimOptions,
  clock: Clock = systemClock,
): Promise<{ completed: boolean; claimed: Job[] }> {
  if (next.limit < 1 || job.lockedBy === null)
    return { completed: await completeJob(executor, job, clock), claimed: [] };
  const now = clock.now();
  const claim = { id: job.id, lockedBy: job.lockedBy, attempts: job.attempts };
  const settled = executor.$with('settled').as(settleStatement(executor, claim, outcomeOnSuccess(job, now), null, now));
  const claimed = executor.$with('claimed').as(claimStatement(executor, next, now, job.id));
  const count = executor
    .$with('settled_count')
    .as(executor.select({ n: sql<number>`count(*)::int`.as('n') }).from(settled));
  const rows = await executor
    .with(settled, claimed, count)
    .select({ n: count.n, job: tableFieldsOf(claimed, jobs) })
    .from(claimed)
    .rightJoin(count, sql`true`);
  return {
    completed: Number(rows[0]?.n ?? 0) === 1,
    // The right join gives one row of nulls when nothing was claimed.
    claimed: rows.flatMap((r) => (r.job?.id ? [r.job as Job] : [])),
  };
}
