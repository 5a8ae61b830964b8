// Refunds and the customer's notifications as stored: rows and queries. What changes them lives in
// commands/ (request-refund, decide-refund, execute-refund, apply-refund-event, refund-transition).
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { money, parseCurrency, type Money } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import { RESERVING_STATUSES, type RefundStatus } from '../domain/refund.machine.ts';
import type { InvoiceRow } from './orders.ts';
import { customerNotifications, refunds } from './tables.ts';

export type RefundRow = typeof refunds.$inferSelect;
export type NotificationRow = typeof customerNotifications.$inferSelect;

/** A refund row's amount as Money. */
export function refundAmount(row: Pick<RefundRow, 'amountMinor' | 'currency'>): Money {
  return money(row.amountMinor, parseCurrency(row.currency));
}

/** What the invoice's reserving refunds (awaiting approval, pending, submitted, succeeded) add up to. */
export async function reservedMinor(tx: Executor, invoiceId: string): Promise<bigint> {
  const rows = await tx
    .select({ minor: refunds.amountMinor })
    .from(refunds)
    .where(and(eq(refunds.invoiceId, invoiceId), inArray(refunds.status, [...RESERVING_STATUSES])));
  return rows.reduce((s, r) => s + r.minor, 0n);
}

/** Refunds of one order, oldest first. */
export async function refundsForOrder(db: Executor, orderId: string): Promise<RefundRow[]> {
  return db.select().from(refunds).where(eq(refunds.orderId, orderId)).orderBy(asc(refunds.createdAt), asc(refunds.id));
}

/** Refunds, newest first, optionally of one status (staff console). */
export async function listRefunds(db: Executor, options: { status?: RefundStatus } = {}): Promise<RefundRow[]> {
  const q = db.select().from(refunds);
  return (options.status ? q.where(eq(refunds.status, options.status)) : q)
    .orderBy(desc(refunds.createdAt), desc(refunds.id))
    .limit(200);
}

/** What is left to refund on an invoice (captured minus every reserving refund). */
export async function refundableMinor(
  db: Executor,
  invoice: Pick<InvoiceRow, 'id' | 'amountMinor' | 'status'>,
): Promise<bigint> {
  if (invoice.status !== 'paid') return 0n;
  return invoice.amountMinor - (await reservedMinor(db, invoice.id));
}

/** A customer's notifications, newest first, optionally about one order. */
export async function notificationsFor(db: Executor, userId: string, orderId?: string): Promise<NotificationRow[]> {
  const where = orderId
    ? and(eq(customerNotifications.userId, userId), eq(customerNotifications.orderId, orderId))
    : eq(customerNotifications.userId, userId);
  return db
    .select()
    .from(customerNotifications)
    .where(where)
    .orderBy(desc(customerNotifications.createdAt), desc(customerNotifications.id))
    .limit(50);
}
