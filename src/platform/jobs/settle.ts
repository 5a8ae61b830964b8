// Settle: moves a job out of `running` (through job-state.ts's writer), guarded by the claim. A
// worker whose lease expired and was taken over by another matches no row here, so its outcome is dropped.
import { and, eq } from 'drizzle-orm';
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
  const settled = await settleStatement(executor, claim, outcome, lastError, now);
  return settled.length === 1;
}

/** The settling UPDATE, returning the id when the claim still held (complete.ts runs it beside a claim). */
export function settleStatement(
  executor: Executor,
  claim: JobClaim,
  outcome: JobOutcome,
  lastError: string | null,
  now: Date,
) {
  return writeJobState(executor, settleTransition(outcome), heldBy(claim), {
    runAt: outcome.runAt,
    attempts: outcome.attempts,
    lockedBy: null,
    lockedUntil: null,
    lastError,
    updatedAt: now,
  }).returning({ id: jobs.id });
}

/** The guard of every write by a job's holder: still running, still ours, still the same attempt. */
export function heldBy(claim: JobClaim) {
  return and(
    eq(jobs.id, claim.id),
    eq(jobs.status, 'running'),
    eq(jobs.lockedBy, claim.lockedBy),
    eq(jobs.attempts, claim.attempts),
  );
}
