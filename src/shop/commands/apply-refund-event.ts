// The refund part of the gateway's payment news, applied in the intake's transaction after its dedupe.
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Money } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import { appendAudit } from '../storage/audit.ts';
import { reservedMinor, type RefundRow } from '../storage/refunds.ts';
import { paymentAttempts, refunds } from '../storage/tables.ts';
import { announce, lockInvoice, moveRefund, notifyRefunded, settleInvoice } from './refund-transition.ts';

/** The refund part of a gateway event (our gateway: `data.refund` of payment.partially_refunded / payment.refunded). */
export interface RefundNews {
  readonly id: string;
  readonly sessionId: string;
  readonly invoiceId: string;
  readonly refund?: { readonly id: string; readonly amount: Money; readonly refundedTotal: Money } | undefined;
}

/**
 * Applies the gateway's news of a refund in the caller's transaction (the webhook intake's, after
 * its dedupe): the matching refund succeeds; a refund made at the gateway itself is recorded; when
 * the gateway's refunded total covers the invoice, the invoice becomes refunded and the order follows.
 * Returns the refund touched, or undefined when the event carries no refund or names no invoice of ours.
 */
export async function applyRefundEvent(tx: Executor, event: RefundNews, now: Date): Promise<RefundRow | undefined> {
  const news = event.refund;
  if (!news || !/^inv_[0-9A-Za-z]{1,60}$/.test(event.invoiceId)) return undefined;
  const invoice = await lockInvoice(tx, event.invoiceId);
  if (!invoice || news.amount.currency !== invoice.currency) return undefined;
  // Refund news is about the payment this invoice captured: an invoice never paid, or a session that is
  // not one of its paid attempts, records nothing (a signed event is still checked like any other).
  if (invoice.status !== 'paid' && invoice.status !== 'refunded') return undefined;
  const [paidAttempt] = await tx
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(
      and(
        eq(paymentAttempts.invoiceId, invoice.id),
        eq(paymentAttempts.gatewaySessionId, event.sessionId),
        inArray(paymentAttempts.status, ['paid', 'captured', 'refunded']),
      ),
    );
  if (!paidAttempt) return undefined;
  let [row] = await tx.select().from(refunds).where(eq(refunds.gatewayRefundId, news.id)).for('update');
  if (row && row.invoiceId !== invoice.id) return undefined;
  if (!row) {
    // The webhook overtook the job's answer: adopt our oldest submitted refund of this amount still waiting for it.
    [row] = await tx
      .select()
      .from(refunds)
      .where(
        and(
          eq(refunds.invoiceId, invoice.id),
          eq(refunds.sessionId, event.sessionId),
          eq(refunds.amountMinor, news.amount.minor),
          inArray(refunds.status, ['submitted', 'failed']),
          isNull(refunds.gatewayRefundId),
        ),
      )
      .orderBy(sql`case when ${refunds.status} = 'failed' then 1 else 0 end`, asc(refunds.createdAt))
      .limit(1)
      .for('update');
  }
  if (!row) {
    // Refunded at the gateway (its dashboard), not through the shop: recorded so that the totals stay
    // true — but never past what was captured (the sum of refunds never exceeds it).
    if ((await reservedMinor(tx, invoice.id)) + news.amount.minor > invoice.amountMinor) return undefined;
    [row] = await tx
      .insert(refunds)
      .values({
        id: newId('ref', now),
        invoiceId: invoice.id,
        orderId: invoice.orderId,
        sessionId: event.sessionId,
        amountMinor: news.amount.minor,
        currency: news.amount.currency,
        reason: 'refunded at the gateway',
        status: 'succeeded',
        requestedBy: 'gateway',
        gatewayRefundId: news.id,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await appendAudit(
      tx,
      {
        actor: 'gateway',
        action: 'refund.recorded',
        subject: row!.id,
        data: {
          to: 'succeeded',
          invoiceId: invoice.id,
          orderId: invoice.orderId,
          amountMinor: news.amount.minor.toString(),
          currency: news.amount.currency,
          gatewayRefundId: news.id,
          eventId: event.id,
        },
      },
      now,
    );
    await announce(tx, row!, now);
    await notifyRefunded(tx, row!, now);
  } else if (row.status !== 'succeeded') {
    row = await moveRefund(tx, row, 'succeed', 'gateway', now, row.gatewayRefundId ? {} : { gatewayRefundId: news.id });
  }
  await settleInvoice(tx, invoice.id, 'gateway', now, news.refundedTotal.minor);
  return row;
}
