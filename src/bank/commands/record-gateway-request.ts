// Consumes a signed gateway request's id in a write of its own, committed before the request has any
// effect: a replay of the same id is refused whatever the first request's outcome was (done, 404,
// 409, invalid, crashed). A legitimate retry is a new request with a new id.
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import { gatewayRequests } from '../storage/tables.ts';

// Every request from the gateway runs it first: built once (builtOnce).
const consume = builtOnce((on) =>
  on
    .insert(gatewayRequests)
    .values({
      webhookId: slot('requestId', gatewayRequests.webhookId),
      receivedAt: slot('now', gatewayRequests.receivedAt),
    })
    .onConflictDoNothing()
    .returning({ id: gatewayRequests.webhookId })
    .prepare('record_gateway_request'),
);

/** Records the request id once; false when it was already used. */
export async function recordGatewayRequest(executor: Executor, requestId: string, now: Date): Promise<boolean> {
  const inserted = await consume(executor).execute({ requestId, now });
  return inserted.length > 0;
}
