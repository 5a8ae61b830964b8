/**
 * The one code path for payment news: the webhook intake, the return-URL status check and
 * reconciliation (status polls and the event feed) all call `applyGatewayEvent`. In ONE transaction:
 * the event id is claimed in the dedupe table (a duplicate gets the first verdict again and changes
 * nothing), the reference must be one of our invoices and the session one of its attempts, an event
 * older than the attempt's last applied sequence is ignored, an authorisation is checked (amount and
 * currency equal, invoice open, unexpired, not paid by another attempt) and then accepted (invoice paid
 * through `applyInvoiceEvent`, attempt moved through `transitionAttempt`, audit, real-time message) or
 * refused (recorded; the edge answers the gateway so that it voids — or, with a gateway that takes
 * verdicts as calls, the capture or cancel job is queued in this transaction: verdict-calls.ts). A void
 * of a payment we had accepted reverses the invoice (never left paid). Only after the commit does the
 * caller answer.
 */
import { and, count, eq } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import type { PaymentEvent } from '../domain/gateway.port.ts';
import { gatewayEvents, webhookReceipts } from '../storage/tables.ts';
import { applyRefundEvent } from './apply-refund-event.ts';
import { decide } from './decide-gateway-event.ts';
import { enqueueVerdictCall } from './verdict-calls.ts';

export { refusalFor } from './decide-gateway-event.ts';

/** What the shop decided about an event it applied for the first time. */
export type FirstVerdict = 'accepted' | 'refused' | 'ignored';
/** What became of an event: decided now, or a duplicate of one decided before. */
export type Verdict = FirstVerdict | 'duplicate';

/**
 * What became of an event, as the domain sees it. A refusal carries its error code (why the
 * authorisation cannot be accepted); a duplicate carries the verdict the event first got, so that a
 * redelivered refusal is refused again. The edge turns this into the gateway's answer.
 */
export interface ApplyOutcome {
  readonly verdict: Verdict;
  readonly code?: string | undefined;
  readonly reason?: string | undefined;
  readonly invoiceId?: string | undefined;
  /** On a duplicate: the verdict the event got when first applied. */
  readonly firstVerdict?: FirstVerdict | undefined;
  /** On a duplicate: where the event was first applied from (webhook, feed, status_check). */
  readonly firstSource?: string | undefined;
}

/** True when the outcome refuses the authorisation (now, or on a redelivery of a refused event): the gateway voids it. */
export function isRefusal(outcome: Pick<ApplyOutcome, 'verdict' | 'firstVerdict'>): boolean {
  return outcome.verdict === 'refused' || (outcome.verdict === 'duplicate' && outcome.firstVerdict === 'refused');
}

const FIRST_VERDICTS: readonly string[] = ['accepted', 'refused', 'ignored'] satisfies FirstVerdict[];

/** Receipts kept per event id: the first delivery and a few redeliveries; further copies answer the same but leave no row. */
export const MAX_RECEIPTS_PER_EVENT = 10;

async function receiptCopies(tx: Executor, event: PaymentEvent): Promise<number> {
  // By invoice first (indexed): an invoice has few receipts, so this stays cheap however many copies come.
  const [row] = await tx
    .select({ n: count() })
    .from(webhookReceipts)
    .where(and(eq(webhookReceipts.invoiceId, event.invoiceId), eq(webhookReceipts.eventId, event.id)));
  return Number(row?.n ?? 0);
}

/**
 * The type staff read for a delivery: refund news by what it did (`partially_refunded`, `refunded`) —
 * a partial refund leaves the session captured, which is not what the delivery was about — else the
 * session's state.
 */
export function receiptType(event: Pick<PaymentEvent, 'status' | 'amount' | 'refund'>): string {
  if (!event.refund) return event.status;
  return event.refund.refundedTotal.minor >= event.amount.minor ? 'refunded' : 'partially_refunded';
}

// Every webhook runs these: built once (builtOnce), every value a placeholder.
const claimEvent = builtOnce((on) =>
  on
    .insert(gatewayEvents)
    .values({
      eventId: slot('eventId', gatewayEvents.eventId),
      sessionId: slot('sessionId', gatewayEvents.sessionId),
      invoiceId: slot('invoiceId', gatewayEvents.invoiceId),
      status: slot('status', gatewayEvents.status),
      sequence: slot('sequence', gatewayEvents.sequence),
      source: slot('source', gatewayEvents.source),
      verdict: 'pending',
      appliedAt: slot('now', gatewayEvents.appliedAt),
    })
    .onConflictDoNothing()
    .returning({ eventId: gatewayEvents.eventId })
    .prepare('claim_gateway_event'),
);

const verdictWrite = (on: Executor) =>
  on
    .update(gatewayEvents)
    .set({
      verdict: slot('verdict', gatewayEvents.verdict),
      code: slot('code', gatewayEvents.code),
      reason: slot('reason', gatewayEvents.reason),
    })
    .where(eq(gatewayEvents.eventId, slot('eventId', gatewayEvents.eventId)));

const decided = builtOnce((on) => verdictWrite(on).prepare('decide_gateway_event'));

// The verdict and the delivery's receipt in one statement: the update a data-modifying CTE.
const decidedAndReceived = builtOnce((on) => {
  const written = on.$with('decided').as(verdictWrite(on).returning({ eventId: gatewayEvents.eventId }));
  return on
    .with(written)
    .insert(webhookReceipts)
    .values({
      receivedAt: slot('receivedAt', webhookReceipts.receivedAt),
      eventId: slot('eventId', webhookReceipts.eventId),
      eventType: slot('eventType', webhookReceipts.eventType),
      sessionId: slot('sessionId', webhookReceipts.sessionId),
      invoiceId: slot('invoiceId', webhookReceipts.invoiceId),
      verdict: slot('verdict', webhookReceipts.verdict),
      reason: slot('receiptReason', webhookReceipts.reason),
    })
    .prepare('decide_gateway_event_with_receipt');
});

/** Applies one gateway event exactly once (see the file header); throws only for failures before the commit. */
export async function applyGatewayEvent(
  database: Database,
  event: PaymentEvent,
  clock: Clock,
  options: { receipt?: boolean; explicit?: boolean } = {},
): Promise<ApplyOutcome> {
  const now = clock.now();
  const outcome = await database.transaction(async (tx) => {
    const claimed = await claimEvent(tx).execute({
      eventId: event.id,
      sessionId: event.sessionId,
      invoiceId: event.invoiceId,
      status: event.status,
      sequence: event.sequence,
      source: event.source,
      now,
    });
    let result: ApplyOutcome;
    /** The delivery's receipt as kept: its verdict and reason are the outcome's. */
    const receipt = (r: ApplyOutcome) => ({
      receivedAt: now,
      eventId: event.id,
      eventType: receiptType(event),
      sessionId: event.sessionId,
      invoiceId: event.invoiceId,
      verdict: r.verdict,
      reason: r.code ?? r.reason ?? null,
    });
    if (claimed.length === 0) {
      const [first] = await tx.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, event.id));
      const firstVerdict = FIRST_VERDICTS.includes(first!.verdict) ? (first!.verdict as FirstVerdict) : undefined;
      result = {
        verdict: 'duplicate',
        firstVerdict,
        code: first!.code ?? undefined,
        reason: `duplicate of an event already ${first!.verdict}`,
        invoiceId: event.invoiceId,
        firstSource: first!.source,
      };
      // Whoever saw one signed delivery can replay it within the tolerance: its copies are kept up to a bound.
      if (options.receipt && (await receiptCopies(tx, event)) < MAX_RECEIPTS_PER_EVENT)
        await tx.insert(webhookReceipts).values(receipt(result));
    } else {
      // Refund news first (idempotent per refund, whatever the session's sequence), then the session's state.
      await applyRefundEvent(tx, event, now);
      result = await decide(tx, event, now, clock);
      const decision = {
        eventId: event.id,
        verdict: result.verdict,
        code: result.code ?? null,
        reason: result.reason ?? null,
      };
      if (options.receipt) {
        // The receipt's reason is the code when there is one; the event keeps code and reason apart.
        const { reason: receiptReason, ...received } = receipt(result);
        await decidedAndReceived(tx).execute({ ...received, ...decision, receiptReason });
      } else await decided(tx).execute(decision);
      if (options.explicit) await enqueueVerdictCall(tx, event, result, clock);
    }
    if (options.receipt) crashPoint('shop.webhook.before_commit');
    return result;
  });
  return outcome;
}
