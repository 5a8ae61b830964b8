// Retention of the real-time outbox. Resume (a join with `after`) replays only messages still kept, so
// keep them far longer than any page stays disconnected (an invoice page lives 30 minutes; a day is
// plenty). Deleted in bounded batches, oldest first, by the created_at index.
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/database.ts';
import { DELETE_BATCH, deleteInBatches } from '../db/batched-delete.ts';

/** How long the parties keep real-time messages: a day. */
export const REALTIME_RETENTION_MS = 86_400_000;

/** Deletes messages created before `olderThan`, `batch` per statement; returns how many. Run it from a recurring job. */
export async function pruneRealtimeMessages(
  executor: Executor,
  olderThan: Date,
  batch: number = DELETE_BATCH,
): Promise<number> {
  return deleteInBatches(
    executor,
    {
      table: 'realtime_messages',
      key: 'id',
      where: sql`created_at < ${olderThan.toISOString()}::timestamptz`,
      orderBy: 'created_at',
    },
    batch,
  );
}
