// Retention deletes in bounded batches: each statement removes at most `batch` rows and commits on
// its own (autocommit), so a large backlog never holds one long transaction or a long row lock, and a
// concurrent writer waits for one short batch at most.
import { sql, type SQL } from 'drizzle-orm';
import { rows, type Executor } from './database.ts';

/** Rows one retention statement deletes at most. */
export const DELETE_BATCH = 1000;

/** Which rows to delete: the table, its key column, the condition, and the indexed column to walk in. */
export interface BatchedDelete {
  readonly table: string;
  readonly key: string;
  readonly where: SQL;
  /** Ordering by an indexed column lets each batch stop after `batch` rows instead of scanning the table. */
  readonly orderBy: string;
}

/** Deletes every matching row, `batch` per statement; returns how many were deleted. */
export async function deleteInBatches(
  executor: Executor,
  target: BatchedDelete,
  batch: number = DELETE_BATCH,
): Promise<number> {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`deleteInBatches: batch must be ≥ 1, got ${batch}`);
  const table = sql.identifier(target.table);
  const key = sql.identifier(target.key);
  let total = 0;
  for (;;) {
    const [row] = await rows<{ deleted: number | string }>(
      executor,
      sql`
        with doomed as (
          select ${key} as k from ${table} where ${target.where} order by ${sql.identifier(target.orderBy)} limit ${batch}
        ), deleted as (
          delete from ${table} where ${key} in (select k from doomed) returning 1
        )
        select count(*)::int as deleted from deleted`,
    );
    const deleted = Number(row?.deleted ?? 0);
    total += deleted;
    if (deleted < batch) return total;
  }
}
