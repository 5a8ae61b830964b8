// Heartbeat: a long job's holder pushes its lease forward so that nobody takes the job over.
import { systemClock, type Clock } from '../clock.ts';
import type { Executor } from '../db/database.ts';
import type { Job } from './job-state.ts';
import { jobs } from './jobs.schema.ts';
import { heldBy } from './settle.ts';

/** Extends the lease to now + leaseSeconds; false when the claim was already lost. */
export async function extendLease(
  executor: Executor,
  job: Pick<Job, 'id' | 'lockedBy' | 'attempts'>,
  leaseSeconds: number,
  clock: Clock = systemClock,
): Promise<boolean> {
  if (job.lockedBy === null) return false;
  const now = clock.now();
  const extended = await executor
    .update(jobs)
    .set({ lockedUntil: new Date(now.getTime() + leaseSeconds * 1000), updatedAt: now })
    .where(heldBy({ id: job.id, lockedBy: job.lockedBy, attempts: job.attempts }))
    .returning({ id: jobs.id });
  return extended.length === 1;
}
