/**
 * Durable jobs: a small job table claimed with FOR UPDATE SKIP LOCKED and leases (graphile-worker's
 * shape, kept small), so that any number of nodes can run the same party's background work and a
 * crashed node's work is picked up again.
 *
 * States (one `status` column) and every transition:
 *
 *   (enqueue)         -> pending      inserted in the caller's transaction, run_at = runAt ?? now;
 *                                     with a key, at most one job per key ever (a repeat is a no-op)
 *   (register)        -> pending      recurring job, key 'recurring:<task>', run_at = now; a repeat
 *                                     registration only updates repeat_seconds
 *   pending           -> running      claim: run_at <= now; attempts + 1, locked_by = worker,
 *                                     locked_until = now + lease (a worker claims when it polls,
 *                                     and in the statement that completes a job, for its freed slot)
 *   running (expired) -> running      claim: locked_until < now (the holder crashed or stalled);
 *                                     another worker takes it over, attempts + 1
 *   running           -> running      heartbeat: the holder pushes locked_until forward
 *   running           -> succeeded    handler resolved (one-shot job)
 *   running           -> pending      handler resolved, recurring job: run_at = now + repeat_seconds,
 *                                     attempts = 0
 *   running           -> pending      handler threw, attempts < max_attempts: run_at = now +
 *                                     retryDelayMs(attempts), last_error set
 *   running           -> failed       handler threw, attempts = max_attempts (one-shot job)
 *   running           -> pending      handler threw, attempts = max_attempts, recurring job: the next
 *                                     recurrence (a recurring job never stops for good)
 *
 * Only writeJobState (job-state.ts) writes the status column, one UPDATE per transition guarded by
 * the states it may leave. succeeded and failed are final. Every write out of `running` (settle,
 * heartbeat) is guarded by the
 * claim: status = 'running' and locked_by = this worker and attempts = the claimed attempt, so a
 * worker whose lease expired and was taken over cannot overwrite the new holder's outcome.
 *
 * Delivery is at least once: a handler may run again after a crash or a lost lease, so handlers
 * make their effects idempotent (a dedupe row in the effect's transaction, a conditional update).
 * Retention (prune.ts) deletes succeeded one-shot jobs after some days, which frees their keys: a
 * key stops a second job only while its first is kept, so it is never the only guard of an effect.
 */
export {
  DEFAULT_RETRY,
  outcomeOnFailure,
  outcomeOnSuccess,
  type Job,
  type JobClaim,
  type JobOutcome,
  type JobStatus,
  type RetryPolicy,
} from './job-state.ts';
export { enqueue, enqueueAlong, type EnqueueInput } from './enqueue.ts';
export { registerRecurring, recurringKey, type RecurringJob } from './register-recurring.ts';
export { claimJobs, type ClaimOptions } from './claim.ts';
export { extendLease } from './heartbeat.ts';
export { completeJob } from './complete.ts';
export { failJob, describeJobError, type FailOptions } from './fail.ts';
export { retryDelayMs } from './retry-delay.ts';
export { DEFAULT_JOB_RETENTION_DAYS, pruneFinishedJobs } from './prune.ts';
export {
  createWorker,
  type JobContext,
  type JobHandler,
  type JobLogger,
  type Worker,
  type WorkerOptions,
} from './worker.ts';
