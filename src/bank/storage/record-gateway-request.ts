// Records a signed gateway request's webhook-id in the transaction of its effect: a replay (same id)
// conflicts here, the transaction rolls back, and the replay changes nothing.
import { DomainError } from '../../core/errors.ts';
import type { Executor } from '../../platform/db/database.ts';
import { gatewayRequests } from './bank.schema.ts';

/** Accepts a webhook-id once; throws webhook.replayed on a repeat. */
export async function recordGatewayRequest(executor: Executor, webhookId: string, now: Date): Promise<void> {
  const inserted = await executor
    .insert(gatewayRequests)
    .values({ webhookId, receivedAt: now })
    .onConflictDoNothing()
    .returning({ id: gatewayRequests.webhookId });
  if (inserted.length === 0) throw new DomainError('webhook.replayed');
}
