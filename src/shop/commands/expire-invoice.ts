// Expiring invoices past their expiry: each closed through its machine, and the cancellation of its
// open gateway sessions queued in the same transaction (the intake refuses a late authorisation anyway).
// A replaced (voided) invoice queues the same cancellations (change-order-delivery.ts).
import { and, eq, lte } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import { publish } from '../../platform/realtime/index.ts';
import { openAttemptsOf } from '../storage/payments.ts';
import { invoices } from '../storage/tables.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { applyInvoiceEvent } from './invoice-transition.ts';

/** The job that cancels one gateway session: `{ sessionId }`. */
export const CANCEL_SESSION_TASK = 'shop.payment.cancel_session';

/**
 * Queues the cancellation of an invoice's open gateway sessions, in the caller's transaction: an
 * invoice that can no longer be paid (expired, or voided when replaced) closes its payment pages at
 * the gateway, so a payer is told before typing a card rather than having it authorised and voided.
 */
export async function queueSessionCancellations(tx: Executor, invoiceId: string, clock: Clock): Promise<void> {
  for (const a of await openAttemptsOf(tx, invoiceId)) {
    if (!a.gatewaySessionId) continue;
    await enqueue(
      tx,
      {
        task: CANCEL_SESSION_TASK,
        payload: { sessionId: a.gatewaySessionId },
        key: `cancel:${a.gatewaySessionId}`,
        maxAttempts: 10,
      },
      clock,
    );
  }
}

/** Expires open invoices past their expiry, and queues the cancellation of their open gateway sessions. */
export async function expireInvoices(deps: { database: Database; clock: Clock }, limit = 100): Promise<string[]> {
  const now = deps.clock.now();
  const due = await deps.database.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.status, 'open'), lte(invoices.expiresAt, now)))
    .limit(limit);
  const expired: string[] = [];
  for (const { id } of due) {
    await deps.database.transaction(async (tx) => {
      const [inv] = await tx.select().from(invoices).where(eq(invoices.id, id)).for('update');
      // Paid (or closed) meanwhile by a webhook that won the race: nothing to expire.
      if (!inv || inv.status !== 'open') return;
      const { invoice } = await applyInvoiceEvent(tx, id, 'expire', 'system:expiry', now);
      await enqueueMail(tx, { kind: 'invoice_expired', subjectId: id, orderId: invoice.orderId, invoiceId: id }, now);
      await queueSessionCancellations(tx, id, deps.clock);
      await publish(tx, `invoice:${id}`, { invoiceId: id, status: invoice.status }, deps.clock);
      expired.push(id);
    });
  }
  return expired;
}
