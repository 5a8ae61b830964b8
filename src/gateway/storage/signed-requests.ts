// The ids of signed requests the gateway received (the bank's callbacks), each consumed in a write of
// its own that commits before the request has any effect, so a replay is refused whatever the first
// request's outcome was. Kept an hour: far past the 5-minute timestamp tolerance that bounds a replay.
import { lt } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { signedRequests } from './tables.ts';

export const SIGNED_REQUEST_RETENTION_MS = 3600_000;

/** Records the request id once; false when it was already used. */
export async function consumeSignedRequest(db: Executor, requestId: string, now: Date): Promise<boolean> {
  const inserted = await db
    .insert(signedRequests)
    .values({ requestId, receivedAt: now })
    .onConflictDoNothing()
    .returning({ id: signedRequests.requestId });
  return inserted.length > 0;
}

/** Deletes ids older than the retention: their timestamps are refused before the id is looked at. */
export async function pruneSignedRequests(db: Executor, now: Date): Promise<void> {
  await db
    .delete(signedRequests)
    .where(lt(signedRequests.receivedAt, new Date(now.getTime() - SIGNED_REQUEST_RETENTION_MS)));
}
