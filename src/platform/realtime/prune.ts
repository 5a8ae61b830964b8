// Retention of the real-time outbox. Resume and polling work only within the retention window, so
// keep it far longer than any page stays open (an invoice page lives 30 minutes; a day is plenty).
import { sql } from 'drizzle-orm';
import { rows, type Executor } from '../db/database.ts';

/** Deletes messages created before `olderThan`; returns how many. Run it from a recurring job. */
export async function pruneRealtimeMessages(executor: Executor, olderThan: Date): Promise<number> {
  const result = await rows<{ deleted: number | string }>(
    executor,
    sql`
      with deleted as (
        delete from realtime_messages where created_at < ${olderThan.toISOString()}::timestamptz returning 1
      )
      select count(*)::int as deleted from deleted`,
  );
  return Number(result[0]?.deleted ?? 0);
}
