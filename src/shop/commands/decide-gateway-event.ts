/**
 * The decision of `applyGatewayEvent` on an event it applies for the first time (inside its transaction):
 * the reference must be one of our invoices and the session one of its attempts (or adopted), an event not
 * newer than the attempt's last applied sequence changes nothing, then an authorisation is refused or
 * accepted and other news moves the attempt (the invoice following). See apply-gateway-event.ts.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import { tableFieldsOf, type Executor } from '../../platform/db/database.ts';
import { publish } from '../../platform/realtime/index.ts';
import type { AttemptEvent } from '../domain/attempt.machine.ts';
import type { PaymentEvent, SessionState } from '../domain/gateway.port.ts';
import { enqueueMail } from '../mail/outbox.ts';
import type { InvoiceRow } from '../storage/orders.ts';
import type { AttemptRow } from '../storage/payments.ts';
import { invoices, paymentAttempts } from '../storage/tables.ts';
import type { ApplyOutcome } from './apply-gateway-event.ts';
import { transitionAttempt } from './attempt-transition.ts';
import { applyInvoiceEvent } from './invoice-transition.ts';

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
  // Paid here (a disputed payment was paid too): news of this attempt's own payment is no refusal.
  if (invoice.status === 'paid' || invoice.status === 'disputed' || invoice.status === 'dispute_lost')
    return attempt?.status === 'paid' || attempt?.status === 'captured'
      ? undefined
      : new DomainError('invoice.already_paid');
  if (invoice.status === 'expired' || (invoice.status === 'open' && now.getTime() >= invoice.expiresAt.getTime()))
    return new DomainError('invoice.expired');
  if (invoice.status !== 'open') return new DomainError('invoice.not_valid', { status: invoice.status });
  return undefined;
}

const isAuthorisation = (s: SessionState) => s === 'authorized' || s === 'captured';

type RefuseOrIgnore = (err: DomainError, reason?: string) => ApplyOutcome;

/** Refuses an authorisation; ignores other news (refused, it would be retried for a day). */
function refuserFor(event: PaymentEvent): RefuseOrIgnore {
  return (err, reason) =>
    // Only an authorisation asks a question the gateway acts on; other news refused would be retried for a day.
    isAuthorisation(event.status)
      ? { verdict: 'refused', code: err.code, reason: reason ?? err.message, invoiceId: event.invoiceId }
      : { verdict: 'ignored', code: err.code, reason: reason ?? err.message, invoiceId: event.invoiceId };
}

export async function decide(tx: Executor, event: PaymentEvent, now: Date, clock: Clock): Promise<ApplyOutcome> {
  const refuseOrIgnore = refuserFor(event);

  const locked = /^inv_[0-9A-Za-z]{1,60}$/.test(event.invoiceId) ? await lockInvoiceAndAttempt(tx, event) : undefined;
  if (!locked)
    return refuseOrIgnore(new DomainError('invoice.unknown'), "reference is not one of this shop's invoices");
  const { invoice } = locked;

  const found = await attemptOf(tx, event, locked, now, refuseOrIgnore);
  if ('outcome' in found) return found.outcome;
  const current = found.attempt;

  if (event.sequence <= current.lastSequence) return staleOutcome(event, invoice, current);

  const ctx = decisionContext(tx, event, invoice, current, now, clock);
  return isAuthorisation(event.status) ? decideAuthorisation(ctx) : decideOtherNews(ctx);
}

// Every webhook runs it: built once (builtOnce), the invoice's and the session's ids its values.
const invoiceAndAttempt = builtOnce((on) => {
  const invoice = on.$with('invoice').as(
    on
      .select()
      .from(invoices)
      .where(eq(invoices.id, slot('invoiceId', invoices.id)))
      .for('update'),
  );
  const attempt = on
    .select()
    .from(paymentAttempts)
    .where(eq(paymentAttempts.gatewaySessionId, slot('sessionId', paymentAttempts.gatewaySessionId)))
    .for('update')
    .as('attempt');
  return on
    .with(invoice)
    .select({ invoice: tableFieldsOf(invoice, invoices), attempt: tableFieldsOf(attempt, paymentAttempts) })
    .from(invoice)
    .leftJoinLateral(attempt, sql`true`)
    .prepare('lock_invoice_and_attempt');
});

/**
 * The invoice the event names and the attempt holding its session, both locked, in one statement: the
 * invoice first (a CTE, fetched as the nested loop's outer row), then the attempt (the lateral side,
 * run once the invoice is locked), the order every intake locks them in. Undefined: no such invoice.
 */
async function lockInvoiceAndAttempt(
  tx: Executor,
  event: PaymentEvent,
): Promise<{ invoice: InvoiceRow; attempt: AttemptRow | undefined } | undefined> {
  const [row] = await invoiceAndAttempt(tx).execute({ invoiceId: event.invoiceId, sessionId: event.sessionId });
  return row && { invoice: row.invoice as InvoiceRow, attempt: (row.attempt as AttemptRow | null) ?? undefined };
}

/** The session's attempt (locked), adopted when its id was never stored; or the outcome when the session is not ours. */
async function attemptOf(
  tx: Executor,
  event: PaymentEvent,
  locked: { invoice: InvoiceRow; attempt: AttemptRow | undefined },
  now: Date,
  refuseOrIgnore: RefuseOrIgnore,
): Promise<{ attempt: AttemptRow } | { outcome: ApplyOutcome }> {
  const { invoice } = locked;
  let { attempt } = locked;
  if (attempt && attempt.invoiceId !== invoice.id)
    return { outcome: refuseOrIgnore(new DomainError('invoice.unknown'), 'session belongs to another invoice') };
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
      return {
        outcome: refuseOrIgnore(
          refusal ?? new DomainError('invoice.unknown'),
          refusal ? undefined : "session is not one of this invoice's attempts",
        ),
      };
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
  return { attempt: attempt! };
}

/** An event older than (or the same as) what was applied: change nothing, but repeat a refusal so a redelivered authorisation is still voided. */
function staleOutcome(event: PaymentEvent, invoice: InvoiceRow, current: AttemptRow): ApplyOutcome {
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

/** What a newer event is applied with: the invoice and attempt (both locked) and the writes on them. */
interface DecisionContext {
  readonly tx: Executor;
  readonly event: PaymentEvent;
  readonly invoice: InvoiceRow;
  readonly current: AttemptRow;
  readonly now: Date;
  /** True once `moveAttempt` has moved the attempt (which also stored the event's sequence). */
  moved(): boolean;
  /** Moves the attempt through its one writer, storing the event's sequence; the new status, or undefined if it did not move. */
  moveAttempt(ev: AttemptEvent, reason?: string): Promise<string | undefined>;
  /** Stores the event's sequence on an attempt that did not move. */
  bumpSequence(): Promise<unknown>;
  /** The real-time message on the invoice's room. */
  announce(invoiceStatus: string, attemptStatus: string): Promise<unknown>;
}

function decisionContext(
  tx: Executor,
  event: PaymentEvent,
  invoice: InvoiceRow,
  current: AttemptRow,
  now: Date,
  clock: Clock,
): DecisionContext {
  let moved = false;
  // The attempt as locked above, then as each move left it: moves write without reading it again.
  let latest = current;
  return {
    tx,
    event,
    invoice,
    current,
    now,
    moved: () => moved,
    moveAttempt: async (ev, reason) => {
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
        {
          lastSequence: event.sequence,
          ...(reason ? { reason } : {}),
          ...(event.card ? { cardBrand: event.card.brand, cardLast4: event.card.last4 } : {}),
        },
        latest,
      );
      if (updated) {
        moved = true;
        latest = updated;
      }
      return updated?.status;
    },
    bumpSequence: () =>
      tx
        .update(paymentAttempts)
        .set({ lastSequence: event.sequence, updatedAt: now })
        .where(eq(paymentAttempts.id, current.id)),
    announce: (invoiceStatus, attemptStatus) =>
      publish(
        tx,
        `invoice:${invoice.id}`,
        { invoiceId: invoice.id, status: invoiceStatus, attemptId: current.id, attemptStatus },
        clock,
      ),
  };
}

/** An authorisation (authorized or captured): refused with its reason, or accepted (invoice paid, receipt mailed). */
async function decideAuthorisation(ctx: DecisionContext): Promise<ApplyOutcome> {
  const { tx, event, invoice, current, now } = ctx;
  const refusal = refusalFor(invoice, current, event, now);
  if (refusal) {
    const to = await ctx.moveAttempt('refuse', refusal.code);
    if (!to) await ctx.bumpSequence();
    await ctx.announce(invoice.status, to ?? current.status);
    return { verdict: 'refused', code: refusal.code, reason: refusal.message, invoiceId: invoice.id };
  }
  let invoiceStatus: string = invoice.status;
  let attemptStatus: string = current.status;
  if (invoice.status === 'open') {
    invoiceStatus = (await applyInvoiceEvent(tx, invoice.id, 'pay', 'gateway', now, invoice)).invoice.status;
    await enqueueMail(
      tx,
      { kind: 'receipt', subjectId: invoice.id, orderId: invoice.orderId, invoiceId: invoice.id },
      now,
    ); // mail: the receipt
    attemptStatus = (await ctx.moveAttempt('accept')) ?? attemptStatus;
  }
  if (event.status === 'captured' && attemptStatus === 'paid')
    attemptStatus = (await ctx.moveAttempt('capture')) ?? attemptStatus;
  if (!ctx.moved()) await ctx.bumpSequence();
  await ctx.announce(invoiceStatus, attemptStatus);
  return { verdict: 'accepted', invoiceId: invoice.id };
}

/** Other news (pending, declined, expired, canceled, voided, refunded): the attempt moves and the invoice follows. */
async function decideOtherNews(ctx: DecisionContext): Promise<ApplyOutcome> {
  const { tx, event, invoice, current, now } = ctx;
  const ev = attemptEventFor(event.status);
  const to = ev ? await ctx.moveAttempt(ev, event.reason) : undefined;
  if (!to) {
    await ctx.bumpSequence();
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
  await ctx.announce(invoiceStatus, to);
  return { verdict: 'accepted', invoiceId: invoice.id };
}
