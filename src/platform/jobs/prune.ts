// Retention of the job table: a one-shot job that succeeded is history once its effect is durable
// elsewhere, so it is deleted after a retention (X_JOB_RETENTION_DAYS, default 7 days), in bounded
// batches. Kept: pending and running jobs (work to do), recurring jobs (their row is the schedule),
// and failed jobs (the operators' alarm: `countersign doctor` lists them, and nothing resolves them).
//
// Deleting a job frees its dedupe key: a later enqueue with the same key makes a new job. That is safe
// only because every task is idempotent on durable state (the audit of every key is in
// docs/operations.md, "Job retention"); a task that is not must keep its key out of here.
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/database.ts';
import { DELETE_BATCH, deleteInBatches } from '../db/batched-delete.ts';

/** Days a succeeded job is kept when the party's X_JOB_RETENTION_DAYS is not set. */
export const DEFAULT_JOB_RETENTION_DAYS = 7;

/** Deletes succeeded one-shot jobs last updated before `olderThan`, `batch` per statement; returns how many. */
export async function pruneFinishedJobs(
  executor: Executor,
  olderThan: Date,
  batch: number = DELETE_BATCH,
): Promise<number> {
  return deleteInBatches(
    executor,
    {
      table: 'jobs',
      key: 'id',
      // The partial index jobs_succeeded_idx (status = 'succeeded', on updated_at) serves this.
      where: sql`status = 'succeeded' and repeat_seconds is null and updated_at < ${olderThan.toISOString()}::timestamptz`,
      orderBy: 'updated_at',
    },
    batch,
  );
}
