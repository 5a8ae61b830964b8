// Settle: moves a job out of `running` (through job-state.ts's writer), guarded by the claim. A
// worker whose lease expired and was taken over by another matches no row here, so its outcome is dropped.
import { and, eq, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/database.ts';
import { settleTransition, writeJobState, type JobClaim, type JobOutcome } from './job-state.ts';
import { jobs } from './jobs.schema.ts';

/** Writes the outcome if `claim` still holds the job; false when the claim was lost. */
export async function settleJob(
  executor: Executor,
  claim: JobClaim,
  outcome: JobOutcome,
  lastError: string | null,
  now: Date,
): Promise<boolean> {
  const settled = await settleWrite(executor, settleTransition(outcome), claim, outcome, lastError, now);
  return settled.length === 1;
}

/** Each of `T`'s values, or SQL standing for it (a placeholder of a query built once). */
export type OrSql<T> = { readonly [K in keyof T]: T[K] | SQL };

/**
 * The settling UPDATE for `transition`, returning the id when the claim still held (complete.ts runs
 * it beside a claim, with placeholders for the values).
 */
export function settleWrite(
  executor: Executor,
  transition: ReturnType<typeof settleTransition>,
  claim: OrSql<JobClaim>,
  outcome: OrSql<Omit<JobOutcome, 'status'>>,
  lastError: string | null | SQL,
  now: Date | SQL,
) {
  return writeJobState(executor, transition, heldBy(claim), {
    runAt: outcome.runAt,
    attempts: outcome.attempts,
    lockedBy: null,
    lockedUntil: null,
    lastError,
    updatedAt: now,
  }).returning({ id: jobs.id });
}

/** The guard of every write by a job's holder: still running, still ours, still the same attempt. */
export function heldBy(claim: OrSql<JobClaim>) {
  return and(
    eq(jobs.id, claim.id),
    eq(jobs.status, 'running'),
    eq(jobs.lockedBy, claim.lockedBy),
    eq(jobs.attempts, claim.attempts),
  );
}
