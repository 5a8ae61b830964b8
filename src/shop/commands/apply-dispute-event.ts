/**
 * The one code path for dispute news: both webhook intakes (`dispute.*`, Stripe's `charge.dispute.*`),
 * the answers to staff's evidence and acceptance, and reconciliation reads. In ONE transaction, like
 * the payment intake: the event id is claimed in the dedupe table (a duplicate changes nothing), the
 * disputed session must be one of our attempts that paid its invoice (an order of this shop), the
 * amount at most what was paid in the same currency; then the dispute is recorded or moved by its
 * machine, the invoice and order follow, everything audited. News the shop cannot apply is recorded
 * as ignored with its code — never answered with a refusal the gateway would retry for a day.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { disputeEventTo } from '../domain/dispute.machine.ts';
import type { DisputeNews } from '../domain/gateway.port.ts';
import { disputes, gatewayEvents, invoices, paymentAttempts, webhookReceipts } from '../storage/tables.ts';
import type { ApplyOutcome, FirstVerdict } from './apply-gateway-event.ts';
import { MAX_RECEIPTS_PER_EVENT } from './apply-gateway-event.ts';
import { moveDispute, openDispute } from './dispute-transition.ts';

const PAID_ATTEMPT = ['paid', 'captured', 'refunded'];
const PAID_INVOICE = ['paid', 'disputed', 'dispute_lost', 'refunded'];

const ignored = (code: string, reason: string, invoiceId?: string): ApplyOutcome => ({
  verdict: 'ignored',
  code,
  reason,
  invoiceId,
});

/** Decides and applies news of a dispute first seen now (inside the caller's transaction). */
async function decideDispute(tx: Executor, news: DisputeNews, now: Date): Promise<ApplyOutcome> {
  const [attempt] = await tx.select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, news.sessionId));
  if (!attempt || (news.invoiceId && news.invoiceId !== attempt.invoiceId))
    return ignored('invoice.unknown', 'the disputed payment is not one of this shop');
  const [invoice] = await tx.select().from(invoices).where(eq(invoices.id, attempt.invoiceId)).for('update');
  if (!invoice || !PAID_ATTEMPT.includes(attempt.status) || !PAID_INVOICE.includes(invoice.status))
    return ignored('invoice.not_valid', 'the disputed payment did not pay its invoice here', attempt.invoiceId);
  if (news.amount.currency !== invoice.currency || news.amount.minor <= 0n || news.amount.minor > invoice.amountMinor)
    return ignored(
      'invoice.amount_mismatch',
      `disputed ${news.amount.minor} ${news.amount.currency}, paid ${invoice.amountMinor} ${invoice.currency}`,
      invoice.id,
    );
  let [row] = await tx.select().from(disputes).where(eq(disputes.id, news.disputeId)).for('update');
  if (row && row.invoiceId !== invoice.id)
    return ignored('invoice.unknown', 'the dispute is recorded for another payment', invoice.id);
  let changed = false;
  if (!row) {
    row = await openDispute(tx, news, invoice, 'gateway', now);
    changed = true;
  }
  const event = disputeEventTo(row.status, news.status);
  if (event) {
    row = await moveDispute(tx, row, event, 'gateway', now);
    changed = true;
  }
  return changed
    ? { verdict: 'accepted', invoiceId: invoice.id }
    : ignored('dispute.stale', `the dispute is ${row.status} already`, invoice.id);
}

/** Applies one piece of dispute news exactly once (see the file header); throws only for failures before the commit. */
export async function applyDisputeEvent(
  database: Database,
  news: DisputeNews,
  clock: Clock,
  options: { receipt?: boolean } = {},
): Promise<ApplyOutcome> {
  const now = clock.now();
  return database.transaction(async (tx) => {
    const claimed = await tx
      .insert(gatewayEvents)
      .values({
        eventId: news.id,
        sessionId: news.sessionId,
        invoiceId: news.invoiceId ?? '',
        status: `dispute.${news.status}`,
        sequence: 0,
        source: news.source,
        verdict: 'pending',
        appliedAt: now,
      })
      .onConflictDoNothing()
      .returning({ eventId: gatewayEvents.eventId });
    let result: ApplyOutcome;
    if (claimed.length === 0) {
      const [first] = await tx.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, news.id));
      result = {
        verdict: 'duplicate',
        firstVerdict: first!.verdict as FirstVerdict,
        code: first!.code ?? undefined,
        reason: `duplicate of an event already ${first!.verdict}`,
        invoiceId: first!.invoiceId || undefined,
        firstSource: first!.source,
      };
    } else {
      result = await decideDispute(tx, news, now);
      await tx
        .update(gatewayEvents)
        .set({
          verdict: result.verdict,
          code: result.code ?? null,
          reason: result.reason ?? null,
          invoiceId: result.invoiceId ?? news.invoiceId ?? '',
        })
        .where(eq(gatewayEvents.eventId, news.id));
    }
    if (options.receipt) await keepDisputeReceipt(tx, news, result, now);
    return result;
  });
}

/** The delivery as staff see it at /staff/payments; a replayed one is kept up to the same bound as payment news. */
async function keepDisputeReceipt(tx: Executor, news: DisputeNews, result: ApplyOutcome, now: Date): Promise<void> {
  if (result.verdict === 'duplicate') {
    const copies = await tx
      .select({ id: webhookReceipts.id })
      .from(webhookReceipts)
      .where(
        and(
          eq(webhookReceipts.eventId, news.id),
          inArray(webhookReceipts.verdict, ['accepted', 'ignored', 'duplicate']),
        ),
      )
      .limit(MAX_RECEIPTS_PER_EVENT);
    if (copies.length >= MAX_RECEIPTS_PER_EVENT) return;
  }
  await tx.insert(webhookReceipts).values({
    receivedAt: now,
    eventId: news.id,
    eventType: news.type,
    sessionId: news.sessionId,
    invoiceId: result.invoiceId ?? null,
    verdict: result.verdict,
    reason: result.code ?? result.reason ?? null,
  });
}
