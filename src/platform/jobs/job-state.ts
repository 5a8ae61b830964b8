// The job states as data and the pure rules that pick a settled job's next state; the full state
// machine is drawn in jobs.ts. The database operations write what these functions decide.
import type { jobs } from './jobs.schema.ts';

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
