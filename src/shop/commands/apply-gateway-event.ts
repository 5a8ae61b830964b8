/**
 * The one code path for payment news: the webhook intake, the return-URL status check and
 * reconciliation (status polls and the event feed) all call `applyGatewayEvent`. In ONE transaction:
 * the event id is claimed in the dedupe table (a duplicate gets the first verdict again and changes
 * nothing), the reference must be one of our invoices and the session one of its attempts, an event
 * older than the attempt's last applied sequence is ignored, an authorisation is checked (amount and
 * currency equal, invoice open, unexpired, not paid by another attempt) and then accepted (invoice paid
 * through `applyInvoiceEvent`, attempt moved through `transitionAttempt`, audit, real-time message) or
 * refused (recorded; the edge answers the gateway so that it voids). A void of a payment we had
 * accepted reverses the invoice (never left paid). Only after the commit does the caller answer.
 */
import { and, count, eq, isNull } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import { publish } from '../../platform/realtime/index.ts';
import type { AttemptEvent } from '../domain/attempt.machine.ts';
import type { PaymentEvent, SessionState } from '../domain/gateway.port.ts';
import type { InvoiceRow } from '../storage/orders.ts';
import type { AttemptRow } from '../storage/payments.ts';
import { gatewayEvents, invoices, paymentAttempts, webhookReceipts } from '../storage/tables.ts';
import { transitionAttempt } from './attempt-transition.ts';
import { applyRefundEvent } from './apply-refund-event.ts';
import { applyInvoiceEvent } from './invoice-transition.ts';
import { enqueueMail } from '../mail/outbox.ts';

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

/** The attempt event a session state means (undefined: nothing to do for the attempt). */
function attemptEventFor(state: SessionState): AttemptEvent | undefined {
  switch (state) {
    case 'pending':
      return 'pending';
    case 'declined':
      return 'decline';
    case 'expired':
    case 'canceled':
      return 'expire';
    case 'voided':
      return 'void';
    case 'refunded':
      return 'refund';
    default:
      return undefined;
  }
}

/** Why an authorisation cannot be accepted for this invoice, or undefined when it can. */
export function refusalFor(
  invoice: InvoiceRow,
  attempt: Pick<AttemptRow, 'status'> | undefined,
  event: PaymentEvent,
  now: Date,
): DomainError | undefined {
  if (event.amount.currency !== invoice.currency || event.amount.minor !== invoice.amountMinor) {
    return new DomainError('invoice.amount_mismatch', {
      expected: `${invoice.amountMinor} ${invoice.currency}`,
      got: `${event.amount.minor} ${event.amount.currency}`,
    });
  }
  if (invoice.status === 'paid')
    return attempt?.status === 'paid' || attempt?.status === 'captured'
      ? undefined
      : new DomainError('invoice.already_paid');
  if (invoice.status === 'expired' || (invoice.status === 'open' && now.getTime() >= invoice.expiresAt.getTime()))
    return new DomainError('invoice.expired');
  if (invoice.status !== 'open') return new DomainError('invoice.not_valid', { status: invoice.status });
  return undefined;
}

const isAuthorisation = (s: SessionState) => s === 'authorized' || s === 'captured';

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

/** Applies one gateway event exactly once (see the file header); throws only for failures before the commit. */
export async function applyGatewayEvent(
  database: Database,
  event: PaymentEvent,
  clock: Clock,
  options: { receipt?: boolean } = {},
): Promise<ApplyOutcome> {
  const now = clock.now();
  const outcome = await database.transaction(async (tx) => {
    const claimed = await tx
      .insert(gatewayEvents)
      .values({
        eventId: event.id,
        sessionId: event.sessionId,
        invoiceId: event.invoiceId,
        status: event.status,
        sequence: event.sequence,
        source: event.source,
        verdict: 'pending',
        appliedAt: now,
      })
      .onConflictDoNothing()
      .returning({ eventId: gatewayEvents.eventId });
    let result: ApplyOutcome;
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
    } else {
      // Refund news first (idempotent per refund, whatever the session's sequence), then the session's state.
      await applyRefundEvent(tx, event, now);
      result = await decide(tx, event, now, clock);
      await tx
        .update(gatewayEvents)
        .set({ verdict: result.verdict, code: result.code ?? null, reason: result.reason ?? null })
        .where(eq(gatewayEvents.eventId, event.id));
    }
    if (options.receipt) {
      // Whoever saw one signed delivery can replay it within the tolerance: its copies are kept up to a bound.
      if (result.verdict !== 'duplicate' || (await receiptCopies(tx, event)) < MAX_RECEIPTS_PER_EVENT) {
        await tx.insert(webhookReceipts).values({
          receivedAt: now,
          eventId: event.id,
          eventType: event.status,
          sessionId: event.sessionId,
          invoiceId: event.invoiceId,
          verdict: result.verdict,
          reason: result.code ?? result.reason ?? null,
        });
      }
      crashPoint('shop.webhook.before_commit');
    }
    return result;
  });
  return outcome;
}

async function decide(tx: Executor, event: PaymentEvent, now: Date, clock: Clock): Promise<ApplyOutcome> {
  const refuseOrIgnore = (err: DomainError, reason?: string): ApplyOutcome =>
    // Only an authorisation asks a question the gateway acts on; other news refused would be retried for a day.
    isAuthorisation(event.status)
      ? { verdict: 'refused', code: err.code, reason: reason ?? err.message, invoiceId: event.invoiceId }
      : { verdict: 'ignored', code: err.code, reason: reason ?? err.message, invoiceId: event.invoiceId };

  const [invoice] = /^inv_[0-9A-Za-z]{1,60}$/.test(event.invoiceId)
    ? await tx.select().from(invoices).where(eq(invoices.id, event.invoiceId)).for('update')
    : [];
  if (!invoice)
    return refuseOrIgnore(new DomainError('invoice.unknown'), "reference is not one of this shop's invoices");

  let [attempt] = await tx
    .select()
    .from(paymentAttempts)
    .where(eq(paymentAttempts.gatewaySessionId, event.sessionId))
    .for('update');
  if (attempt && attempt.invoiceId !== invoice.id)
    return refuseOrIgnore(new DomainError('invoice.unknown'), 'session belongs to another invoice');
  if (!attempt) {
    // A session of our invoice whose id we never stored (crash or timeout between create and store): adopt
    // it — but only while one of the invoice's attempts still lacks its session id. Otherwise every session
    // we asked for is known, so this one is not ours (another merchant's session naming our invoice): it
    // must not pay the invoice. A business refusal is still named as such (already paid, expired…).
    const [waiting] = await tx
      .select({ id: paymentAttempts.id })
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.invoiceId, invoice.id), isNull(paymentAttempts.gatewaySessionId)))
      .limit(1);
    if (!waiting) {
      const refusal = isAuthorisation(event.status) ? refusalFor(invoice, undefined, event, now) : undefined;
      return refuseOrIgnore(
        refusal ?? new DomainError('invoice.unknown'),
        refusal ? undefined : "session is not one of this invoice's attempts",
      );
    }
    // Inserted in the machine's initial state, then moved by the one writer (its audit entry says adopted).
    const id = newId('att', now);
    await tx.insert(paymentAttempts).values({
      id,
      invoiceId: invoice.id,
      status: 'created',
      gatewaySessionId: event.sessionId,
      lastSequence: -1,
      createdAt: now,
      updatedAt: now,
    });
    attempt = await transitionAttempt(tx, id, 'session_created', {
      actor: 'gateway',
      now,
      action: 'attempt.adopted',
      data: { invoiceId: invoice.id, sessionId: event.sessionId },
    });
  }
  const current = attempt!;

  if (event.sequence <= current.lastSequence) {
    // Older than (or the same as) what was applied: change nothing, but repeat a refusal so a redelivered authorisation is still voided.
    if (isAuthorisation(event.status) && current.status === 'refused')
      return {
        verdict: 'refused',
        code: current.reason ?? 'invoice.not_valid',
        reason: 'already refused',
        invoiceId: invoice.id,
      };
    return {
      verdict: 'ignored',
      reason: `sequence ${event.sequence} not newer than ${current.lastSequence}`,
      invoiceId: invoice.id,
    };
  }

  let moved = false;
  const moveAttempt = async (ev: AttemptEvent, reason?: string): Promise<string | undefined> => {
    const data = {
      invoiceId: invoice.id,
      eventId: event.id,
      sequence: event.sequence,
      source: event.source,
      ...(reason ? { reason } : {}),
    };
    const updated = await transitionAttempt(
      tx,
      current.id,
      ev,
      { actor: 'gateway', now, data },
      { lastSequence: event.sequence, ...(reason ? { reason } : {}) },
    );
    if (updated) moved = true;
    return updated?.status;
  };
  const bumpSequence = () =>
    tx
      .update(paymentAttempts)
      .set({ lastSequence: event.sequence, updatedAt: now })
      .where(eq(paymentAttempts.id, current.id));
  const announce = (invoiceStatus: string, attemptStatus: string) =>
    publish(
      tx,
      `invoice:${invoice.id}`,
      { invoiceId: invoice.id, status: invoiceStatus, attemptId: current.id, attemptStatus },
      clock,
    );

  if (isAuthorisation(event.status)) {
    const refusal = refusalFor(invoice, current, event, now);
    if (refusal) {
      const to = await moveAttempt('refuse', refusal.code);
      if (!to) await bumpSequence();
      await announce(invoice.status, to ?? current.status);
      return { verdict: 'refused', code: refusal.code, reason: refusal.message, invoiceId: invoice.id };
    }
    let invoiceStatus: string = invoice.status;
    let attemptStatus: string = current.status;
    if (invoice.status !== 'paid') {
      invoiceStatus = (await applyInvoiceEvent(tx, invoice.id, 'pay', 'gateway', now, invoice)).invoice.status;
      await enqueueMail(
        tx,
        { kind: 'receipt', subjectId: invoice.id, orderId: invoice.orderId, invoiceId: invoice.id },
        now,
      ); // mail: the receipt
      attemptStatus = (await moveAttempt('accept')) ?? attemptStatus;
    }
    if (event.status === 'captured' && attemptStatus === 'paid')
      attemptStatus = (await moveAttempt('capture')) ?? attemptStatus;
    if (!moved) await bumpSequence();
    await announce(invoiceStatus, attemptStatus);
    return { verdict: 'accepted', invoiceId: invoice.id };
  }

  const ev = attemptEventFor(event.status);
  const to = ev ? await moveAttempt(ev, event.reason) : undefined;
  if (!to) {
    await bumpSequence();
    return {
      verdict: 'ignored',
      reason: `${event.status} changes nothing for an attempt ${current.status}`,
      invoiceId: invoice.id,
    };
  }
  if ((ev === 'decline' || ev === 'expire') && invoice.status === 'open')
    await enqueueMail(
      tx,
      { kind: 'attempt_failed', subjectId: current.id, orderId: invoice.orderId, invoiceId: invoice.id },
      now,
    ); // mail: try again
  let invoiceStatus: string = invoice.status;
  if (ev === 'refund' && invoice.status === 'paid')
    invoiceStatus = (await applyInvoiceEvent(tx, invoice.id, 'refund', 'gateway', now)).invoice.status;
  // Voided after we accepted it (our 2xx came after the acknowledgement window, or a crash ate it): no
  // money was taken, so the invoice must not stay paid or the order would ship unpaid. It is reversed,
  // the order goes back to awaiting payment, and staff see it among the reconciliation findings.
  if (ev === 'void' && current.status === 'paid' && invoice.status === 'paid')
    invoiceStatus = (await applyInvoiceEvent(tx, invoice.id, 'reverse', 'gateway', now)).invoice.status;
  if (invoiceStatus !== invoice.status && ev === 'void')
    await enqueueMail(
      tx,
      { kind: 'payment_reversed', subjectId: invoice.id, orderId: invoice.orderId, invoiceId: invoice.id },
      now,
    ); // mail: reversal notice
  await announce(invoiceStatus, to);
  return { verdict: 'accepted', invoiceId: invoice.id };
}
