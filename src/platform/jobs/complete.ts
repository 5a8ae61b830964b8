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
import { builtOnce, slot } from '../db/built-once.ts';
import { tableFieldsOf, type Executor } from '../db/database.ts';
import { CLAIM_SLOTS, claimValues, claimWrite, type ClaimOptions } from './claim.ts';
import { outcomeOnSuccess, settleTransition, type Job } from './job-state.ts';
import { jobs } from './jobs.schema.ts';
import { settleJob, settleWrite } from './settle.ts';

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

// The completion and claim run after every job (about five an order across the parties): built once
// per transition a success can make (done, or the next recurrence), every value a placeholder.
function completeAndClaimStatement(on: Executor, transition: 'succeed' | 'reschedule') {
  const settled = on.$with('settled').as(
    settleWrite(
      on,
      transition,
      {
        id: slot('id', jobs.id),
        lockedBy: slot('lockedBy', jobs.lockedBy),
        attempts: slot('attempts', jobs.attempts),
      },
      { runAt: slot('runAt', jobs.runAt), attempts: slot('nextAttempts', jobs.attempts) },
      null,
      slot('now', jobs.updatedAt),
    ),
  );
  const claimed = on.$with('claimed').as(claimWrite(on, { ...CLAIM_SLOTS, except: slot('id', jobs.id) }));
  const count = on.$with('settled_count').as(on.select({ n: sql<number>`count(*)::int`.as('n') }).from(settled));
  return on
    .with(settled, claimed, count)
    .select({ n: count.n, job: tableFieldsOf(claimed, jobs) })
    .from(claimed)
    .rightJoin(count, sql`true`)
    .prepare(`complete_and_claim_${transition}`);
}

const completeAndClaim = {
  succeed: builtOnce((on) => completeAndClaimStatement(on, 'succeed')),
  reschedule: builtOnce((on) => completeAndClaimStatement(on, 'reschedule')),
};

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
  const outcome = outcomeOnSuccess(job, now);
  const transition = settleTransition(outcome);
  if (transition === 'fail') throw new Error('a success does not fail a job');
  const rows = await completeAndClaim[transition](executor).execute({
    id: job.id,
    lockedBy: job.lockedBy,
    attempts: job.attempts,
    runAt: outcome.runAt,
    nextAttempts: outcome.attempts,
    ...claimValues(next, now),
  });
  return {
    completed: Number(rows[0]?.n ?? 0) === 1,
    // The right join gives one row of nulls when nothing was claimed.
    claimed: rows.flatMap((r) => (r.job?.id ? [r.job as Job] : [])),
  };
}
