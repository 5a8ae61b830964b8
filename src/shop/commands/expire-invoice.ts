// Expiring invoices past their expiry: each closed through its machine, and the cancellation of its
// open gateway sessions queued in the same transaction (the intake refuses a late authorisation anyway).
import { and, eq, lte } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import { publish } from '../../platform/realtime/index.ts';
import { openAttemptsOf } from '../storage/payments.ts';
import { invoices } from '../storage/tables.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { applyInvoiceEvent } from './invoice-transition.ts';

/** The job that cancels one gateway session: `{ sessionId }`. */
export const CANCEL_SESSION_TASK = 'shop.payment.cancel_session';

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
      const open = await openAttemptsOf(tx, id);
      for (const a of open) {
        if (a.gatewaySessionId)
          await enqueue(
            tx,
            {
              task: CANCEL_SESSION_TASK,
              payload: { sessionId: a.gatewaySessionId },
              key: `cancel:${a.gatewaySessionId}`,
              maxAttempts: 10,
            },
            deps.clock,
          );
      }
      await publish(tx, `invoice:${id}`, { invoiceId: id, status: invoice.status }, deps.clock);
      expired.push(id);
    });
  }
  return expired;
}
