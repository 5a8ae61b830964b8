// "Pay now" on the invoice side: the order's valid invoice reused, or the old one closed and a new one issued.
import { and, eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { money, parseCurrency } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import { invoiceTerms, planInvoice } from '../domain/invoice.ts';
import { appendAudit, type AuditInput } from '../storage/audit.ts';
import { invoiceAmount, type InvoiceRow, type OrderRow } from '../storage/orders.ts';
import { invoices, orders } from '../storage/tables.ts';
import { applyInvoiceEvent } from './invoice-transition.ts';

/** What an invoice is issued from: the order's id, owner, version and total. */
export type InvoicedOrder = Pick<OrderRow, 'id' | 'userId' | 'version' | 'totalMinor' | 'currency'>;

/**
 * A new open invoice for the order's current total, not yet written: the row as it will be stored and
 * its audit entry (issueInvoice writes them; "Pay now" on the cart writes them with the order).
 */
export function newInvoice(
  order: InvoicedOrder,
  actor: string,
  now: Date,
  ttlSeconds: number,
): { row: InvoiceRow; audit: AuditInput } {
  const terms = invoiceTerms({
    orderId: order.id,
    ownerId: order.userId,
    total: money(order.totalMinor, parseCurrency(order.currency)),
    now,
    ttlSeconds,
  });
  const row: InvoiceRow = {
    id: newId('inv', now),
    orderId: terms.orderId,
    orderVersion: order.version,
    userId: terms.ownerId,
    amountMinor: terms.amount.minor,
    currency: terms.amount.currency,
    status: 'open',
    valid: true,
    createdAt: terms.createdAt,
    expiresAt: terms.expiresAt,
    closedAt: null,
    paidAt: null,
  };
  const data = { orderId: order.id, amountMinor: row.amountMinor.toString(), currency: row.currency };
  return { row, audit: { actor, action: 'invoice.issued', subject: row.id, data } };
}

/** Issues a new open invoice for the order's current total (with the order, see newInvoice). */
export async function issueInvoice(
  tx: Executor,
  order: InvoicedOrder,
  actor: string,
  now: Date,
  ttlSeconds: number,
): Promise<InvoiceRow> {
  const { row, audit } = newInvoice(order, actor, now, ttlSeconds);
  await tx.insert(invoices).values(row);
  await appendAudit(tx, audit, now);
  return row;
}

/** The order's open invoice, read FOR UPDATE. */
export async function openInvoiceFor(tx: Executor, orderId: string): Promise<InvoiceRow | undefined> {
  const [row] = await tx
    .select()
    .from(invoices)
    .where(and(eq(invoices.orderId, orderId), eq(invoices.status, 'open')))
    .for('update');
  return row;
}

/**
 * "Pay now": the order's valid invoice, reused when still open, unexpired and for the order's total;
 * otherwise the old one is expired or voided and a new one issued. Only the owner may pay.
 */
export async function invoiceForPayment(
  db: Executor,
  orderId: string,
  userId: string,
  now: Date,
  ttlSeconds: number,
): Promise<InvoiceRow> {
  return db.transaction(async (tx) => {
    const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
    if (!order || order.userId !== userId) throw new DomainError('access.denied');
    if (order.status !== 'awaiting_payment') throw new DomainError('order.not_payable', { status: order.status });
    const open = await openInvoiceFor(tx, orderId);
    const plan = planInvoice(
      open && { id: open.id, status: open.status, amount: invoiceAmount(open), expiresAt: open.expiresAt },
      money(order.totalMinor, parseCurrency(order.currency)),
      now,
    );
    if (plan.kind === 'reuse') return open!;
    // Closing the old invoice may move the order; applyInvoiceEvent returns it as it now is.
    const current = plan.close
      ? (await applyInvoiceEvent(tx, plan.close.invoiceId, plan.close.event, userId, now)).order
      : order;
    return issueInvoice(tx, current, userId, now, ttlSeconds);
  });
}
