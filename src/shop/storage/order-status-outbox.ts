// The outbox for order-status changes: one event row and one delivery job in the caller's transaction,
// so that warehouse and CRM learn of exactly the changes that committed (the integrations job signs and sends them).
import { newId } from '../../core/ids.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { SQLWrapper } from 'drizzle-orm';
import { enqueueAlong, type EnqueueInput } from '../../platform/jobs/jobs.ts';
import type { OrderStatus } from '../domain/order.machine.ts';
import { orderStatusEvents } from './tables.ts';

/** The job task the worker handles: deliver one order-status event to the integrations. */
export const ORDER_STATUS_TASK = 'shop.order_status.deliver';
/** The per-endpoint delivery task the fan-out enqueues: `{ eventId, endpoint }` (the endpoint's configured name). */
export const ENDPOINT_DELIVERY_TASK = 'shop.order_status.deliver_endpoint';

/** An order-status change: the order, the invoice it concerns (if any), from and to, its total. */
export interface OrderStatusChange {
  orderId: string;
  invoiceId: string | null;
  from: OrderStatus | null;
  to: OrderStatus;
  totalMinor: bigint;
  currency: string;
}

/**
 * The change's event row (an insert returning its id, not yet run) and the delivery job that must go
 * with it: for recordOrderStatusChange, or for a statement that writes them with other rows.
 */
export function orderStatusChange(
  db: Executor,
  change: OrderStatusChange,
  now: Date,
): { event: SQLWrapper; job: EnqueueInput } {
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
  const event = db
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
  return { event, job: { task: ORDER_STATUS_TASK, payload: { eventId: id }, key: `order-status:${id}` } };
}

/**
 * Records an order-status change (event row + delivery job) in the caller's transaction, in one
 * statement; `alongside` (the order's own update, say) rides in the same statement, before them.
 */
export async function recordOrderStatusChange(
  tx: Executor,
  change: OrderStatusChange,
  now: Date,
  alongside?: SQLWrapper,
): Promise<void> {
  const { event, job } = orderStatusChange(tx, change, now);
  await enqueueAlong(tx, event, job, { now: () => now }, alongside ? { first: alongside } : {});
}
