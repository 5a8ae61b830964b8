// The one writer of a refund's status, and what every refund change brings with it: the audit entry,
// the real-time message on the invoice's room, the customer's notification when it succeeded, and the
// invoice becoming refunded once refunds cover it. Locks are taken invoice first, then refund.
import { customerRefundText } from '../domain/refund.rule.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { and, eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { formatMoney, toJSON } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import { publish } from '../../platform/realtime/index.ts';
import { refundMachine, type RefundEvent } from '../domain/refund.machine.ts';
import { appendAudit } from '../storage/audit.ts';
import type { InvoiceRow } from '../storage/orders.ts';
import { refundAmount, type RefundRow } from '../storage/refunds.ts';
import { customerNotifications, invoices, orders, refunds } from '../storage/tables.ts';
import { applyInvoiceEvent } from './invoice-transition.ts';

/** The job that asks the gateway to execute a refund: `{ refundId }`. */
export const REFUND_EXECUTE_TASK = 'shop.refund.execute';
/** Attempts before a refund the gateway never answered is given up as failed. */
export const REFUND_EXECUTE_MAX_ATTEMPTS = 12;

const fixedClock = (now: Date): Clock => ({ now: () => now });

/** The invoice's row, read FOR UPDATE (every refund change takes it first). */
export async function lockInvoice(tx: Executor, invoiceId: string): Promise<InvoiceRow | undefined> {
  const [row] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId)).for('update');
  return row;
}

/**
 * Moves a refund by one event of its machine, with audit and real-time message. The caller has read
 * the row FOR UPDATE (lockRefund, or the gateway news under the invoice's lock); the machine decides.
 */
export async function moveRefund(
  tx: Executor,
  row: RefundRow,
  event: RefundEvent,
  actor: string,
  now: Date,
  patch: Partial<Pick<RefundRow, 'approvedBy' | 'gatewayRefundId' | 'failure'>> = {},
): Promise<RefundRow> {
  const next = refundMachine.apply(row.status, event).state;
  const [updated] = await tx
    .update(refunds)
    .set({ status: next, updatedAt: now, ...patch })
    .where(and(eq(refunds.id, row.id), eq(refunds.status, row.status)))
    .returning();
  if (!updated) throw new DomainError('state.illegal_transition', { status: row.status, event });
  await appendAudit(
    tx,
    {
      actor,
      action: `refund.${event}`,
      subject: row.id,
      data: {
        from: row.status,
        to: next,
        invoiceId: row.invoiceId,
        orderId: row.orderId,
        amountMinor: row.amountMinor.toString(),
        currency: row.currency,
        ...patch,
      },
    },
    now,
  );
  await announce(tx, updated, now);
  if (next === 'succeeded') await notifyRefunded(tx, updated, now);
  return updated;
}

/** Tells the invoice's room about a refund. */
export async function announce(tx: Executor, row: RefundRow, now: Date): Promise<void> {
  await publish(
    tx,
    `invoice:${row.invoiceId}`,
    { invoiceId: row.invoiceId, refund: { id: row.id, status: row.status, amount: { ...toJSON(refundAmount(row)) } } },
    fixedClock(now),
  );
}

/** Tells the customer their refund succeeded. */
export async function notifyRefunded(tx: Executor, row: RefundRow, now: Date): Promise<void> {
  const [order] = await tx.select({ userId: orders.userId }).from(orders).where(eq(orders.id, row.orderId));
  await tx.insert(customerNotifications).values({
    userId: order!.userId,
    orderId: row.orderId,
    kind: 'refund.succeeded',
    // The customer's text, never staff's internal reason.
    message: `${formatMoney(refundAmount(row))} has been refunded to your card ${customerRefundText(row.customerReason)}.`,
    createdAt: now,
  });
  await enqueueMail(tx, { kind: 'refund', subjectId: row.id, orderId: row.orderId, invoiceId: row.invoiceId }, now);
}

/** When the refunds that succeeded (or the gateway's refunded total) cover the invoice, it becomes refunded and the order follows. */
export async function settleInvoice(
  tx: Executor,
  invoiceId: string,
  actor: string,
  now: Date,
  gatewayRefundedMinor?: bigint,
): Promise<void> {
  const [invoice] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId));
  if (!invoice || invoice.status !== 'paid') return;
  const succeeded = (
    await tx
      .select({ minor: refunds.amountMinor })
      .from(refunds)
      .where(and(eq(refunds.invoiceId, invoiceId), eq(refunds.status, 'succeeded')))
  ).reduce((s, r) => s + r.minor, 0n);
  if (succeeded >= invoice.amountMinor || (gatewayRefundedMinor ?? 0n) >= invoice.amountMinor) {
    const { invoice: after } = await applyInvoiceEvent(tx, invoiceId, 'refund', actor, now);
    await publish(tx, `invoice:${invoiceId}`, { invoiceId, status: after.status }, fixedClock(now));
  }
}

/** Queues the gateway call of a refund (once per refund). */
export async function enqueueExecution(tx: Executor, refundId: string, clock: Clock): Promise<void> {
  await enqueue(
    tx,
    {
      task: REFUND_EXECUTE_TASK,
      payload: { refundId },
      key: `refund:${refundId}`,
      maxAttempts: REFUND_EXECUTE_MAX_ATTEMPTS,
    },
    clock,
  );
}

/** A refund's row FOR UPDATE, after its invoice's (the one lock order). */
export async function lockRefund(tx: Executor, refundId: string): Promise<RefundRow> {
  const [peek] = await tx.select({ invoiceId: refunds.invoiceId }).from(refunds).where(eq(refunds.id, refundId));
  if (!peek) throw new DomainError('not_found', { resource: 'refund' });
  // Invoice first, then the refund: the same order as requests and gateway news, so no deadlock.
  await lockInvoice(tx, peek.invoiceId);
  const [row] = await tx.select().from(refunds).where(eq(refunds.id, refundId)).for('update');
  return row!;
}
