// The job states as data, the pure rules that pick a settled job's next state, and the one function
// that writes a job's status (every transition's UPDATE is built here, guarded by the states it may
// leave). The full state machine is drawn in jobs.ts; claim.ts and settle.ts name the transition.
import { and, inArray, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { defineMachine } from '../../core/state-machine.ts';
import type { Executor } from '../db/database.ts';
import { jobs } from './jobs.schema.ts';

export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed';

/** A row of the job table. */
export type Job = typeof jobs.$inferSelect;

/** A job this worker holds: what every guarded write identifies it by. */
export interface JobClaim {
  readonly id: string;
  readonly lockedBy: string;
  /** The attempt number the claim started (1 for the first run). */
  readonly attempts: number;
}

/** The schedule a settled job moves to. */
export interface JobOutcome {
  readonly status: Exclude<JobStatus, 'running'>;
  readonly runAt: Date;
  readonly attempts: number;
}

/** Capped exponential backoff between attempts of a failing job (see retry-delay.ts). */
export interface RetryPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/** Default retry policy: 2.5–5 s after the first failure, doubling, at most 1 h (see retry-delay.ts). */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ baseMs: 5_000, capMs: 3_600_000 });

/** Where a successful run leaves the job: done, or waiting for its next recurrence. */
export function outcomeOnSuccess(job: Pick<Job, 'runAt' | 'attempts' | 'repeatSeconds'>, now: Date): JobOutcome {
  if (job.repeatSeconds === null) return { status: 'succeeded', runAt: job.runAt, attempts: job.attempts };
  return { status: 'pending', runAt: new Date(now.getTime() + job.repeatSeconds * 1000), attempts: 0 };
}

/** Where a failed run leaves the job: retried after `retryDelayMs`, failed for good, or next recurrence. */
export function outcomeOnFailure(
  job: Pick<Job, 'runAt' | 'attempts' | 'maxAttempts' | 'repeatSeconds'>,
  now: Date,
  retryDelayMs: number,
): JobOutcome {
  if (job.attempts < job.maxAttempts) {
    return { status: 'pending', runAt: new Date(now.getTime() + retryDelayMs), attempts: job.attempts };
  }
  if (job.repeatSeconds !== null) {
    return { status: 'pending', runAt: new Date(now.getTime() + job.repeatSeconds * 1000), attempts: 0 };
  }
  return { status: 'failed', runAt: job.runAt, attempts: job.attempts };
}

/**
 * The job's state machine (enqueue and register insert rows as pending). A claim also takes over a
 * running job whose lease expired; `reschedule` is a retry or the next recurrence.
 */
export const jobMachine = defineMachine<JobStatus, 'claim' | 'succeed' | 'reschedule' | 'fail'>({
  name: 'job',
  states: ['pending', 'running', 'succeeded', 'failed'],
  transitions: {
    pending: { claim: 'running' },
    running: { claim: 'running', succeed: 'succeeded', reschedule: 'pending', fail: 'failed' },
  },
});

type JobEvent = (typeof jobMachine.events)[number];

/** A transition as the guarded UPDATE needs it: the states it may leave and the one it enters. */
function edge(event: JobEvent): { readonly from: readonly JobStatus[]; readonly to: JobStatus } {
  const from = jobMachine.states.filter((state) => jobMachine.can(state, event));
  return { from, to: jobMachine.apply(from[0]!, event).state };
}

/** Every transition the database makes, read once from the machine. */
export const JOB_TRANSITIONS = {
  claim: edge('claim'),
  succeed: edge('succeed'),
  reschedule: edge('reschedule'),
  fail: edge('fail'),
} as const;

export type JobTransition = keyof typeof JOB_TRANSITIONS;

/** The transition that settles a run into `outcome`. */
export function settleTransition(outcome: JobOutcome): Exclude<JobTransition, 'claim'> {
  return outcome.status === 'succeeded' ? 'succeed' : outcome.status === 'failed' ? 'fail' : 'reschedule';
}

type JobFields = Omit<PgUpdateSetSource<typeof jobs>, 'status' | 'id'>;

/**
 * The only writer of jobs.status: one UPDATE for the named transition, guarded by `status in from`
 * and the caller's condition (the claim's subquery, or the holder's guard), so a row in any other
 * state is left alone. Returns the statement for the caller's `returning`, still one round trip.
 */
export function writeJobState(
  executor: Executor,
  transition: JobTransition,
  where: SQL | undefined,
  fields: JobFields,
) {
  const { from, to } = JOB_TRANSITIONS[transition];
  return executor
    .update(jobs)
    .set({ ...fields, status: to })
    .where(and(inArray(jobs.status, [...from]), where));
}
