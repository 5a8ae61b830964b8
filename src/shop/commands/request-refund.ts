// Staff request a refund: under the invoice's row lock, so concurrent requests never reserve more than was captured.
import { and, desc, eq, inArray } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { money, parseCurrency, type Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { decideRefundRequest, customerRefundReason, refundReason } from '../domain/refund.rule.ts';
import { appendAudit } from '../storage/audit.ts';
import { reservedMinor, type RefundRow } from '../storage/refunds.ts';
import { paymentAttempts, refunds } from '../storage/tables.ts';
import { announce, enqueueExecution, lockInvoice } from './refund-transition.ts';

/**
 * Staff request a refund of a paid invoice: full or partial, with a reason. Above the approval
 * threshold it waits for a second staff member; otherwise it is queued for the gateway at once.
 */
export async function requestRefund(
  database: Database,
  input: {
    invoiceId: string;
    amount: Money;
    reason: string | undefined;
    /** What the customer is told (a code of CUSTOMER_REFUND_REASONS); absent: the neutral text. */
    customerReason?: string | undefined;
    staffId: string;
    approvalThresholdMinor: bigint;
    requestKey?: string | undefined;
  },
  clock: Clock,
): Promise<RefundRow> {
  const reason = refundReason(input.reason);
  const customerReason = customerRefundReason(input.customerReason);
  const now = clock.now();
  return database.transaction(async (tx) => {
    // The row lock serialises every request for this invoice: the sum below cannot go stale.
    const invoice = await lockInvoice(tx, input.invoiceId);
    if (!invoice) throw new DomainError('not_found', { resource: 'invoice' });
    if (input.requestKey) {
      // The same form submitted again (double click, resend): the refund it already made, not a second one.
      // Read under the invoice's lock, so racing copies see the first one's commit.
      const [same] = await tx.select().from(refunds).where(eq(refunds.requestKey, input.requestKey));
      if (same && same.invoiceId !== invoice.id)
        throw new DomainError('validation.failed', {
          field: 'requestKey',
          reason: "belongs to another invoice's refund form",
        });
      if (same) return same;
    }
    const [attempt] = await tx
      .select({ sessionId: paymentAttempts.gatewaySessionId })
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.invoiceId, invoice.id), inArray(paymentAttempts.status, ['paid', 'captured'])))
      .orderBy(desc(paymentAttempts.updatedAt))
      .limit(1);
    if (invoice.status === 'paid' && !attempt?.sessionId)
      throw new DomainError('refund.not_allowed', { reason: 'no captured gateway session' });
    const decision = decideRefundRequest({
      invoiceStatus: invoice.status,
      captured: money(invoice.amountMinor, parseCurrency(invoice.currency)),
      reserved: money(await reservedMinor(tx, invoice.id), parseCurrency(invoice.currency)),
      requested: input.amount,
      approvalThresholdMinor: input.approvalThresholdMinor,
    });
    const [row] = await tx
      .insert(refunds)
      .values({
        id: newId('ref', now),
        invoiceId: invoice.id,
        orderId: invoice.orderId,
        sessionId: attempt!.sessionId!,
        amountMinor: input.amount.minor,
        currency: input.amount.currency,
        reason,
        customerReason,
        status: decision.status,
        requestedBy: input.staffId,
        requestKey: input.requestKey ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await appendAudit(
      tx,
      {
        actor: input.staffId,
        action: 'refund.requested',
        subject: row!.id,
        data: {
          to: row!.status,
          invoiceId: invoice.id,
          orderId: invoice.orderId,
          amountMinor: row!.amountMinor.toString(),
          currency: row!.currency,
          reason,
          customerReason,
        },
      },
      now,
    );
    await announce(tx, row!, now);
    if (row!.status === 'pending') await enqueueExecution(tx, row!.id, clock);
    return row!;
  });
}
