// Runs a transaction again when it lost a race the database refereed: a unique violation (two
// requests with the same gateway_ref at once) or a deadlock. The repeat sees the winner's row.
import type { Database, Tx } from '../../platform/db/database.ts';
import { databaseError } from './database-error.ts';

const RETRYABLE = new Set(['23505', '40P01', '40001']);

/** database.transaction(fn), repeated (up to `attempts` times) when it lost a race. */
export async function transactionWithRetry<T>(
  database: Database,
  fn: (tx: Tx) => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.transaction(fn);
    } catch (err) {
      const code = databaseError(err)?.code;
      if (attempt >= attempts || code === undefined || !RETRYABLE.has(code)) throw err;
    }
  }
}
