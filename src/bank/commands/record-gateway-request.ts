// Consumes a signed gateway request's id in a write of its own, committed before the request has any
// effect: a replay of the same id is refused whatever the first request's outcome was (done, 404,
// 409, invalid, crashed). A legitimate retry is a new request with a new id.
import type { Executor } from '../../platform/db/database.ts';
import { gatewayRequests } from '../storage/tables.ts';

/** Records the request id once; false when it was already used. */
export async function recordGatewayRequest(executor: Executor, requestId: string, now: Date): Promise<boolean> {
  const inserted = await executor
    .insert(gatewayRequests)
    .values({ webhookId: requestId, receivedAt: now })
    .onConflictDoNothing()
    .returning({ id: gatewayRequests.webhookId });
  return inserted.length > 0;
}
