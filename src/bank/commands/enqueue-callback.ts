// The callback outbox: a decision the gateway must hear about is written as a row (with its exact
// body) and a delivery job, in the decision's transaction. The row id travels in the body as
// callback_id, stable across retries, so that the gateway can dedupe. Delivery: deliver-callback.ts.
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import type { DeclineReason } from '../domain/authorization.machine.ts';
import { BANK_TASKS } from '../storage/bank-settings.ts';
import { gatewayCallbacks } from '../storage/tables.ts';

export type CallbackBody =
  | { type: 'authorization.approved'; authorization_id: string; gateway_ref: string }
  | { type: 'authorization.declined'; authorization_id: string; gateway_ref: string; decline_reason: DeclineReason }
  | {
      type: 'dispute.opened';
      dispute_ref: string;
      gateway_ref: string;
      amount_minor: string;
      currency: string;
      reason: string;
      evidence_due_by: string;
    }
  | { type: 'dispute.closed'; dispute_ref: string; outcome: 'won' | 'lost' };
/** What is sent: the callback's own id first, for the gateway's dedupe. */
export type CallbackMessage = { callback_id: string } & CallbackBody;

/**
 * Writes the callback (pending) and its delivery job in the caller's transaction. A dispute's callback
 * carries no authorisation id in its body: the row names the disputed authorisation (`authorizationId`).
 */
export async function enqueueCallback(
  tx: Executor,
  body: CallbackBody,
  clock: Clock,
  authorizationId?: string,
): Promise<string> {
  const now = clock.now();
  const id = newId('bcb', now);
  const forAuthorization = 'authorization_id' in body ? body.authorization_id : authorizationId;
  if (!forAuthorization) throw new Error('a callback needs the authorisation it is about');
  await tx.insert(gatewayCallbacks).values({
    id,
    authorizationId: forAuthorization,
    body: JSON.stringify({ callback_id: id, ...body } satisfies CallbackMessage),
    status: 'pending',
    createdAt: now,
  });
  await enqueue(
    tx,
    {
      task: BANK_TASKS.deliverCallback,
      payload: { callbackId: id },
      key: `${BANK_TASKS.deliverCallback}:${id}`,
      maxAttempts: 15,
    },
    clock,
  );
  return id;
}
