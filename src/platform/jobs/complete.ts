// Complete: records a successful run (succeeded, or the next recurrence of a recurring job).
import { systemClock, type Clock } from '../clock.ts';
import type { Executor } from '../db/database.ts';
import { outcomeOnSuccess, type Job } from './job-state.ts';
import { settleJob } from './settle.ts';

/** Marks a held job done; false (and nothing written) when this worker no longer holds it. */
export async function completeJob(
  executor: Executor,
  job: Pick<Job, 'id' | 'lockedBy' | 'attempts' | 'runAt' | 'repeatSeconds'>,
  clock: Clock = systemClock,
): Promise<boolean> {
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
