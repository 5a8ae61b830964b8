// The one writer of invoice and order status: an invoice moves by its machine, and the order follows
// through the one rule, with the outbox event and the audit entry in the same transaction.
import { eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { tableFieldsOf, type Executor } from '../../platform/db/database.ts';
import { invoiceMachine, isValidStatus, type InvoiceEvent } from '../domain/invoice.machine.ts';
import { followInvoice } from '../domain/order-status.rule.ts';
import { appendAudit } from '../storage/audit.ts';
import { recordOrderStatusChange } from '../storage/order-status-outbox.ts';
import type { InvoiceRow, OrderRow } from '../storage/orders.ts';
import { invoices, orders } from '../storage/tables.ts';

/**
 * Moves an invoice by one event of its machine and makes the order follow through the one rule.
 * The single writer of invoice and order status (the payment intake calls it with 'pay'): the invoice
 * is read FOR UPDATE (or passed in, already locked), its machine decides, then the row is written.
 */
export async function applyInvoiceEvent(
  tx: Executor,
  invoiceId: string,
  event: InvoiceEvent,
  actor: string,
  now: Date,
  /** The invoice's row when the caller has already read it FOR UPDATE in this transaction. */
  locked?: InvoiceRow,
): Promise<{ invoice: InvoiceRow; order: OrderRow }> {
  const [invoice] =
    locked?.id === invoiceId
      ? [locked]
      : await tx.select().from(invoices).where(eq(invoices.id, invoiceId)).for('update');
  if (!invoice) throw new DomainError('invoice.unknown');
  const next = invoiceMachine.apply(invoice.status, event).state;
  // The invoice written and its order read FOR UPDATE in one statement. The order's lock is taken
  // after the invoice's (held already), as before; a row locked FOR UPDATE is returned as last
  // committed, even when the statement had to wait for it.
  const written = tx.$with('written').as(
    tx
      .update(invoices)
      .set({
        status: next,
        valid: isValidStatus(next),
        closedAt: next === 'open' ? null : (invoice.closedAt ?? now),
        // Back to paid after a won dispute keeps the time it was first paid.
        paidAt: next === 'paid' ? (invoice.paidAt ?? now) : invoice.paidAt,
      })
      .where(eq(invoices.id, invoiceId))
      .returning(),
  );
  const [both] = await tx
    .with(written)
    .select({ invoice: tableFieldsOf(written, invoices), order: orders })
    .from(written)
    .innerJoin(orders, eq(orders.id, written.orderId))
    .for('update', { of: orders });
  const { invoice: updatedInvoice, order } = both!;
  const follow = followInvoice(order.status, next);
  let updatedOrder: OrderRow = order;
  if (follow.changed) {
    // The order's row is locked (above) and has no trigger: these two columns are all the update
    // changes, so it rides in the outbox's statement, with the event and its job (one round trip).
    updatedOrder = { ...order, status: follow.status, updatedAt: now };
    await recordOrderStatusChange(
      tx,
      {
        orderId: order.id,
        invoiceId,
        from: order.status,
        to: follow.status,
        totalMinor: order.totalMinor,
        currency: order.currency,
      },
      now,
      tx.update(orders).set({ status: follow.status, updatedAt: now }).where(eq(orders.id, order.id)),
    );
  }
  await appendAudit(
    tx,
    {
      actor,
      action: `invoice.${event}`,
      subject: invoiceId,
      data: { from: invoice.status, to: next, orderId: order.id, orderStatus: follow.status },
    },
    now,
  );
  return { invoice: updatedInvoice as InvoiceRow, order: updatedOrder };
}
