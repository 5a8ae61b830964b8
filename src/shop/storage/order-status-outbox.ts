// The outbox for order-status changes: one event row and one delivery job in the caller's transaction,
// so that warehouse and CRM learn of exactly the changes that committed (the integrations job signs and sends them).
import { newId } from '../../core/ids.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueueAlong } from '../../platform/jobs/jobs.ts';
import type { OrderStatus } from '../domain/order.machine.ts';
import { orderStatusEvents } from './tables.ts';

/** The job task the worker handles: deliver one order-status event to the integrations. */
export const ORDER_STATUS_TASK = 'shop.order_status.deliver';
/** The per-endpoint delivery task the fan-out enqueues: `{ eventId, endpoint }` (the endpoint's configured name). */
export const ENDPOINT_DELIVERY_TASK = 'shop.order_status.deliver_endpoint';

/** Records an order-status change (event row + delivery job) in the caller's transaction. */
export async function recordOrderStatusChange(
  tx: Executor,
  change: {
    orderId: string;
    invoiceId: string | null;
    from: OrderStatus | null;
    to: OrderStatus;
    totalMinor: bigint;
    currency: string;
  },
  now: Date,
): Promise<string> {
  const id = newId('out', now);
  const payload = {
    type: 'order.status_changed',
    id,
    orderId: change.orderId,
    invoiceId: change.invoiceId,
    from: change.from,
    to: change.to,
    total: { minor: change.totalMinor.toString(), currency: change.currency },
    occurredAt: now.toISOString(),
  };
  // The event row and its delivery job in one statement.
  const event = tx
    .insert(orderStatusEvents)
    .values({
      id,
      orderId: change.orderId,
      invoiceId: change.invoiceId,
      fromStatus: change.from,
      toStatus: change.to,
      occurredAt: now,
      payload,
    })
    .returning({ id: orderStatusEvents.id });
  await enqueueAlong(
    tx,
    event,
    { task: ORDER_STATUS_TASK, payload: { eventId: id }, key: `order-status:${id}` },
    { now: () => now },
  );
  return id;
}
