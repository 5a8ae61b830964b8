// Running one claimed job: its handler under a heartbeat that keeps the lease, then the outcome
// settled through the claim guard (complete or fail). Used by the worker for every job it claims.
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { completeJobAndClaim } from './complete.ts';
import { failJob, type FailOptions } from './fail.ts';
import { extendLease } from './heartbeat.ts';
import type { Job, JobClaim } from './job-state.ts';
import type { JobHandler, JobLogger } from './worker.ts';

/** What running a job needs from its worker. */
export interface JobRunner {
  readonly database: Database;
  readonly tasks: Readonly<Record<string, JobHandler>>;
  readonly workerId: string;
  readonly leaseSeconds: number;
  readonly clock: Clock;
  readonly log: JobLogger;
  readonly failOptions: FailOptions;
}

/** What a run's settling statement did besides: whether it handed the slot over, and the jobs it claimed. */
export interface HandOver {
  /** A successful run's completion claimed for the freed slot (false: failed, lost, or nothing asked). */
  readonly ran: boolean;
  /** Jobs now held by this worker, to run next. */
  readonly claimed: Job[];
}

const NO_HAND_OVER: HandOver = Object.freeze({ ran: false, claimed: [] });

/**
 * Runs one claimed job to a settled outcome; never rejects. On success the completion also claims
 * up to `slots()` due jobs (asked at the moment of the completion), returned for the caller to run.
 */
export async function runJob(runner: JobRunner, job: Job, slots: () => number = () => 0): Promise<HandOver> {
  const { database, tasks, workerId: id, clock, log } = runner;
  const claim = { id: job.id, lockedBy: id, attempts: job.attempts };
  const lease = new AbortController();
  const stopHeartbeat = startHeartbeat(runner, claim, lease);
  let failure: { error: unknown } | undefined;
  try {
    const handler = Object.hasOwn(tasks, job.task) ? tasks[job.task] : undefined;
    if (handler === undefined) {
      throw new Error(`unknown task "${job.task}": no handler is registered for it on worker ${id}`);
    }
    await handler(job.payload, { jobId: job.id, attempt: job.attempts, task: job.task, signal: lease.signal });
  } catch (error) {
    failure = { error };
  } finally {
    stopHeartbeat();
  }
  const fields = { jobId: job.id, task: job.task, attempt: job.attempts, workerId: id };
  try {
    if (failure === undefined) {
      const next = { workerId: id, limit: slots(), leaseSeconds: runner.leaseSeconds };
      const { completed, claimed } = await completeJobAndClaim(database.db, job, next, clock);
      if (!completed)
        log.warn(fields, 'jobs: lease lost before completion; another worker holds the job, success not recorded');
      return { ran: next.limit > 0, claimed };
    }
    const outcome = await failJob(database.db, job, failure.error, runner.failOptions, clock);
    if (outcome === null)
      log.warn(
        { ...fields, err: failure.error },
        'jobs: lease lost before failure was recorded; another worker holds the job',
      );
    else if (outcome.status === 'failed')
      log.error({ ...fields, err: failure.error }, 'jobs: job failed for good (attempts exhausted)');
    else
      log.warn(
        { ...fields, err: failure.error, retryAt: outcome.runAt.toISOString() },
        'jobs: attempt failed; will run again',
      );
  } catch (err) {
    // The lease will expire and another run will settle it: at-least-once, never lost.
    log.error({ ...fields, err }, 'jobs: could not record the outcome; the job runs again after its lease expires');
  }
  return NO_HAND_OVER;
}

/** Extends the lease every third of it while the handler runs; returns the function that stops it. */
function startHeartbeat(runner: JobRunner, claim: JobClaim, lease: AbortController): () => void {
  const { database, workerId: id, leaseSeconds, clock, log } = runner;
  let inFlight = false;
  let stopped = false;
  const beat = setInterval(
    () => {
      if (inFlight || stopped) return;
      inFlight = true;
      extendLease(database.db, claim, leaseSeconds, clock)
        .then((held) => {
          // A beat that was in flight when the run settled finds the claim released: not a loss.
          if (held || stopped) return;
          stop();
          lease.abort(new Error(`lease on job ${claim.id} lost`));
          log.warn({ jobId: claim.id, workerId: id }, 'jobs: lease lost while running; another worker may run the job');
        })
        .catch((err: unknown) => log.error({ jobId: claim.id, workerId: id, err }, 'jobs: heartbeat failed'))
        .finally(() => {
          inFlight = false;
        });
    },
    (leaseSeconds * 1000) / 3,
  );
  const stop = () => {
    stopped = true;
    clearInterval(beat);
  };
  return stop;
}
