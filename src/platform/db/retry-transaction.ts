// Runs a transaction again when it lost a race the database refereed: a unique violation (two
// requests with the same gateway_ref at once) or a deadlock. The repeat sees the winner's row.
import type { Database, Tx } from '../../platform/db/database.ts';

const RETRYABLE = new Set(['23505', '40P01', '40001']);

function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

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
      const code = sqlState(err);
      if (attempt >= attempts || code === undefined || !RETRYABLE.has(code)) throw err;
    }
  }
}
