// The gateway's use cases: sessions, card submission, the bank's decisions, the shop's
// acknowledgement, capture and void, refunds, expiry. Each state change is one transaction with
// its event and outbox row; calls to the bank happen between transactions, never inside one.
import { and, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import { DomainError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { money, toJSON, type Currency, type Money } from '../core/money.ts';
import { testCard } from '../core/test-cards.ts';
import type { Clock } from '../platform/clock.ts';
import { crashPoint } from '../platform/crash-points.ts';
import type { Database, Executor } from '../platform/db/database.ts';
import { enqueue } from '../platform/jobs/enqueue.ts';
import type { Logger } from '../platform/log.ts';
import { cardInputSchema, parseCard, summariseCard } from './domain/card.ts';
import { decideRefund } from './domain/refund.rule.ts';
import { PAID_STATES } from './domain/session.machine.ts';
import type { IssuerDecision, IssuerPort } from './issuer/issuer.port.ts';
import { findMerchant } from './storage/merchants.ts';
import { findSession, insertSession, lockSession, transitionSession, type NewSession } from './storage/sessions.ts';
import { paymentSessions, refunds, type SessionRow } from './storage/tables.ts';
import type { z } from 'zod';

export const SETTLE_TASK = 'gateway.settle_authorization';
export const REFUND_AT_BANK_TASK = 'gateway.refund_at_bank';

export interface PaymentsDeps {
  readonly database: Database;
  readonly issuer: IssuerPort;
  readonly clock: Clock;
  /** HMAC key of card fingerprints. */
  readonly fingerprintSecret: string;
  readonly log?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** The amount of a session row. */
export function sessionAmount(s: SessionRow): Money {
  return money(s.amountMinor, s.currency as Currency);
}

/** Creates the gateway's use cases over its database and issuer. */
export function createPayments(deps: PaymentsDeps) {
  const { database, issuer, clock } = deps;

  async function createSession(input: NewSession): Promise<SessionRow> {
    if (input.expiresAt.getTime() <= clock.now().getTime()) throw new DomainError('validation.failed', { field: 'expires_at', reason: 'in_the_past' });
    return insertSession(database.db, input, clock);
  }

  /** Cancels a session nobody has paid yet; repeating the cancel returns the canceled session. */
  async function cancelSession(merchantId: string, id: string): Promise<SessionRow> {
    return database.transaction(async (tx) => {
      const s = await lockSession(tx, id, merchantId);
      if (s.status === 'canceled') return s;
      return (await transitionSession(tx, s, 'cancel', clock, { reason: 'canceled_by_merchant' })).session;
    });
  }

  /** Applies a bank decision to a session inside the caller's transaction; stale or repeated ones change nothing. */
  async function applyDecisionTx(tx: Executor, sessionId: string, decision: IssuerDecision): Promise<SessionRow> {
    const s = await lockSession(tx, sessionId);
    if (s.bankAuthorizationId && decision.authorizationId && s.bankAuthorizationId !== decision.authorizationId) {
      deps.log?.warn({ sessionId, authorizationId: decision.authorizationId }, 'bank decision for another authorisation ignored');
      return s;
    }
    if (s.status !== 'processing' && s.status !== 'requires_approval') return s;
    if (decision.status === 'pending') {
      if (s.status !== 'processing') return s;
      return (await transitionSession(tx, s, 'bank_pending', clock, { patch: { bankAuthorizationId: decision.authorizationId } })).session;
    }
    if (decision.status === 'declined') {
      return (
        await transitionSession(tx, s, 'bank_declined', clock, {
          patch: { declineReason: decision.declineReason, ...(decision.authorizationId ? { bankAuthorizationId: decision.authorizationId } : {}) },
          reason: decision.declineReason,
        })
      ).session;
    }
    const merchant = await findMerchant(tx, s.merchantId);
    const now = clock.now();
    return (
      await transitionSession(tx, s, 'bank_approved', clock, {
        patch: {
          bankAuthorizationId: decision.authorizationId,
          authorizedAt: now,
          ackDeadline: new Date(now.getTime() + (merchant?.ackWindowSeconds ?? 900) * 1000),
        },
      })
    ).session;
  }

  /** Applies a bank decision in its own transaction. */
  function applyDecision(sessionId: string, decision: IssuerDecision): Promise<SessionRow> {
    return database.transaction((tx) => applyDecisionTx(tx, sessionId, decision).then((s) => { if (s.status === 'authorized') crashPoint('gateway.authorize.before_commit'); return s; }));
  }

  /**
   * The payer submits a card on the hosted page. The session row lock makes this happen at most
   * once: a second submit finds it no longer `created`. The card goes to the issuer port and is
   * otherwise only summarised (last 4, brand, fingerprint).
   */
  async function submitCard(sessionId: string, raw: z.infer<typeof cardInputSchema>): Promise<SessionRow> {
    const now = clock.now();
    const card = parseCard(raw, now);
    const summary = summariseCard(card, deps.fingerprintSecret);
    const started = await database.transaction(async (tx) => {
      const s = await lockSession(tx, sessionId);
      if (s.status === 'created' && s.expiresAt.getTime() <= now.getTime()) {
        await transitionSession(tx, s, 'expire', clock, { reason: 'session_expired' });
        return null;
      }
      if (s.status === 'expired') return null;
      if (s.status !== 'created') throw new DomainError('session.not_payable', { status: s.status });
      return (
        await transitionSession(tx, s, 'submit_card', clock, {
          patch: { cardLast4: summary.last4, cardBrand: summary.brand, cardFingerprint: summary.fingerprint, lastError: null },
        })
      ).session;
    });
    if (started === null) throw new DomainError('session.expired');

    const fail = (lastError: string) =>
      database.transaction(async (tx) => {
        const s = await lockSession(tx, sessionId);
        if (s.status !== 'processing') return s;
        return (await transitionSession(tx, s, 'authorization_failed', clock, { patch: { lastError } })).session;
      });

    // The gateway_error test card fails here, before the bank is asked: nothing can have been authorised.
    if (testCard(card.number)?.behaviour === 'gateway_error') return fail('gateway_error');
    const merchant = await findMerchant(database.db, started.merchantId);
    let decision: IssuerDecision;
    try {
      crashPoint('gateway.bank.before_authorize');
      decision = await issuer.authorize({
        // The session id: a repeat after a lost answer is the same authorisation at the bank.
        gatewayRef: started.id,
        card,
        amount: sessionAmount(started),
        merchantName: merchant?.name ?? '',
        description: started.description,
        reference: started.merchantReference,
      });
    } catch (err) {
      deps.log?.warn({ sessionId, err }, 'authorisation failed at the bank');
      return fail('bank_unavailable');
    }
    crashPoint('gateway.bank.after_authorize');
    return applyDecision(sessionId, decision).then((s) => { if (s.status === 'authorized') crashPoint('gateway.authorize.after_commit'); return s; });
  }

  /** The shop answered 2xx to payment.authorized in time: schedule the capture. */
  async function acknowledge(sessionId: string): Promise<boolean> {
    return database.transaction(async (tx) => {
      const now = clock.now();
      const updated = await tx
        .update(paymentSessions)
        .set({ acknowledgement: 'acknowledged', acknowledgedAt: now, updatedAt: now })
        .where(
          and(
            eq(paymentSessions.id, sessionId),
            eq(paymentSessions.status, 'authorized'),
            isNull(paymentSessions.acknowledgement),
            sql`${paymentSessions.ackDeadline} > ${now.toISOString()}::timestamptz`,
          ),
        )
        .returning({ id: paymentSessions.id });
      if (updated.length === 0) return false;
      await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId }, key: `settle:${sessionId}` }, clock);
      return true;
    });
  }

  /**
   * The merchant accepts an authorisation through the API instead of by answering its webhook (it
   * learned of it from the event feed or a status read because the webhook never arrived): the same
   * acknowledgement as a 2xx, under the same window. A repeat is a no-op; refused, timed out, voided
   * or past the window is a 409 (the void follows as an event).
   */
  async function acknowledgeByMerchant(merchantId: string, sessionId: string): Promise<SessionRow> {
    const s = await findSession(database.db, sessionId, merchantId);
    if (!s) throw new DomainError('not_found', { resource: 'payment_session' });
    if (s.acknowledgement === null && s.status === 'authorized') await acknowledge(sessionId);
    const after = (await findSession(database.db, sessionId, merchantId))!;
    if (after.acknowledgement !== 'acknowledged') {
      throw new DomainError('state.illegal_transition', { status: after.status, acknowledgement: after.acknowledgement });
    }
    return after;
  }

  /** The shop refused payment.authorized (409/422): schedule the void at once. */
  async function refuse(sessionId: string, reason: string): Promise<boolean> {
    return database.transaction(async (tx) => {
      const now = clock.now();
      const updated = await tx
        .update(paymentSessions)
        .set({ acknowledgement: 'refused', voidReason: reason, updatedAt: now })
        .where(and(eq(paymentSessions.id, sessionId), eq(paymentSessions.status, 'authorized'), isNull(paymentSessions.acknowledgement)))
        .returning({ id: paymentSessions.id });
      if (updated.length === 0) return false;
      await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId }, key: `settle:${sessionId}` }, clock);
      return true;
    });
  }

  /** Authorisations whose acknowledgement window passed without a 2xx: schedule their void. */
  async function voidUnacknowledged(): Promise<string[]> {
    return database.transaction(async (tx) => {
      const now = clock.now();
      const overdue = await tx
        .update(paymentSessions)
        .set({ acknowledgement: 'timed_out', voidReason: 'acknowledgement_timeout', updatedAt: now })
        .where(
          and(
            eq(paymentSessions.status, 'authorized'),
            isNull(paymentSessions.acknowledgement),
            lte(paymentSessions.ackDeadline, now),
          ),
        )
        .returning({ id: paymentSessions.id });
      for (const { id } of overdue) await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId: id }, key: `settle:${id}` }, clock);
      // Decided but not settled for 10 minutes (the bank was down through every retry of the job):
      // try again, once per 10-minute bucket.
      const stuck = await tx
        .select({ id: paymentSessions.id })
        .from(paymentSessions)
        .where(
          and(
            eq(paymentSessions.status, 'authorized'),
            sql`${paymentSessions.acknowledgement} is not null`,
            lt(paymentSessions.updatedAt, new Date(now.getTime() - 600_000)),
          ),
        )
        .limit(50);
      const bucket = Math.floor(now.getTime() / 600_000);
      for (const { id } of stuck) await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId: id }, key: `settle:${id}:${bucket}` }, clock);
      return overdue.map((o) => o.id);
    });
  }

  /** Captures an acknowledged authorisation, voids a refused or unacknowledged one (bank first, then state). */
  async function settle(sessionId: string): Promise<SessionRow | undefined> {
    const s = await findSession(database.db, sessionId);
    if (!s || s.status !== 'authorized' || s.acknowledgement === null || !s.bankAuthorizationId) return s;
    if (s.acknowledgement === 'acknowledged') {
      crashPoint('gateway.capture.before_bank');
      await issuer.capture(s.bankAuthorizationId, sessionAmount(s));
      crashPoint('gateway.capture.after_bank');
      return database.transaction(async (tx) => {
        const locked = await lockSession(tx, sessionId);
        if (locked.status !== 'authorized') return locked;
        return (await transitionSession(tx, locked, 'capture', clock, { patch: { capturedMinor: locked.amountMinor } })).session;
      });
    }
    try {
      crashPoint('gateway.void.before_bank');
      await issuer.void(s.bankAuthorizationId);
    } catch (err) {
      // Already released at the bank (expired or voided there): nothing to take back, record the void.
      const atBank = await issuer.status(s.bankAuthorizationId).catch(() => null);
      if (!atBank || !['voided', 'expired', 'declined'].includes(atBank.status)) throw err;
    }
    return database.transaction(async (tx) => {
      const locked = await lockSession(tx, sessionId);
      if (locked.status !== 'authorized') return locked;
      return (await transitionSession(tx, locked, 'void', clock, { reason: locked.voidReason ?? 'voided' })).session;
    });
  }

  /** Expires sessions past their expiry that nobody paid; returns their ids. */
  async function expireSessions(): Promise<string[]> {
    const now = clock.now();
    const due = await database.db
      .select({ id: paymentSessions.id })
      .from(paymentSessions)
      .where(and(eq(paymentSessions.status, 'created'), lte(paymentSessions.expiresAt, now)))
      .limit(100);
    const done: string[] = [];
    for (const { id } of due) {
      await database.transaction(async (tx) => {
        const s = await lockSession(tx, id);
        if (s.status !== 'created' || s.expiresAt.getTime() > now.getTime()) return;
        await transitionSession(tx, s, 'expire', clock, { reason: 'session_expired' });
        done.push(id);
      });
    }
    return done;
  }

  /**
   * Sessions left in `processing` by a crash between the card submit and recording the bank's answer.
   * The bank is asked what it did for our reference (the session id): an authorisation it made is
   * applied as its answer (approved: the shop is asked to accept it, then it is captured or voided like
   * any other; pending or declined likewise); one it never saw sends the session back to `created` so
   * the payer may try again (a retry reuses the session id as gateway_ref: nothing is authorised twice).
   * `olderThanMs` must exceed the bank call's timeout, so that a call still in flight is not taken for
   * one the bank never saw. Before, every such session went back to `created` and a hold the bank had
   * placed stayed on the payer's account, nothing ever capturing or releasing it.
   */
  async function recoverInterrupted(olderThanMs = 120_000): Promise<string[]> {
    const cutoff = new Date(clock.now().getTime() - olderThanMs);
    const stuck = await database.db
      .select({ id: paymentSessions.id })
      .from(paymentSessions)
      .where(and(eq(paymentSessions.status, 'processing'), lt(paymentSessions.updatedAt, cutoff)))
      .limit(50);
    const done: string[] = [];
    for (const { id } of stuck) {
      let found: Awaited<ReturnType<IssuerPort['findByReference']>>;
      try {
        found = await issuer.findByReference(id);
      } catch (err) {
        deps.log?.warn({ sessionId: id, err }, 'asking the bank about an interrupted authorisation failed; will ask again');
        continue;
      }
      const decision: IssuerDecision | null =
        found?.status === 'approved' ? { status: 'approved', authorizationId: found.authorizationId }
        : found?.status === 'pending' ? { status: 'pending', authorizationId: found.authorizationId }
        : found?.status === 'declined' ? { status: 'declined', authorizationId: found.authorizationId, declineReason: found.declineReason ?? 'card_declined' }
        : null; // never seen (or nothing held any more): the payer may try again
      const changed = await database.transaction(async (tx) => {
        const [s] = await tx
          .select()
          .from(paymentSessions)
          .where(and(eq(paymentSessions.id, id), eq(paymentSessions.status, 'processing'), lt(paymentSessions.updatedAt, cutoff)))
          .for('update', { skipLocked: true });
        if (!s) return false;
        if (decision) await applyDecisionTx(tx, id, decision);
        else await transitionSession(tx, s, 'authorization_failed', clock, { patch: { lastError: 'interrupted' } });
        return true;
      });
      if (changed) done.push(id);
    }
    return done;
  }

  /** Asks the bank about authorisations pending longer than `olderThanMs`, in case a callback was lost. */
  async function pollPending(olderThanMs = 10_000): Promise<number> {
    const cutoff = new Date(clock.now().getTime() - olderThanMs);
    const pending = await database.db
      .select()
      .from(paymentSessions)
      .where(and(inArray(paymentSessions.status, ['requires_approval']), lt(paymentSessions.updatedAt, cutoff)))
      .limit(50);
    let changed = 0;
    for (const s of pending) {
      if (!s.bankAuthorizationId) continue;
      try {
        const st = await issuer.status(s.bankAuthorizationId);
        if (st.status === 'approved') await applyDecision(s.id, { status: 'approved', authorizationId: s.bankAuthorizationId });
        else if (st.status === 'declined') {
          await applyDecision(s.id, { status: 'declined', authorizationId: s.bankAuthorizationId, declineReason: st.declineReason ?? 'card_declined' });
        } else continue;
        changed++;
      } catch (err) {
        deps.log?.warn({ sessionId: s.id, err }, 'polling the bank failed');
      }
    }
    return changed;
  }

  /**
   * Refunds part or all of a captured payment. The amount is reserved under the session's row lock
   * (so concurrent refunds cannot together exceed the capture), then the bank is asked; if it cannot
   * be reached a durable job keeps asking.
   */
  async function createRefund(merchantId: string, input: { sessionId: string; amount: Money; reason: string }) {
    const refund = await database.transaction(async (tx) => {
      const s = await lockSession(tx, input.sessionId, merchantId);
      const decision = decideRefund({
        status: s.status,
        captured: money(s.capturedMinor, s.currency as Currency),
        alreadyRefunded: money(s.refundedMinor, s.currency as Currency),
        requested: input.amount,
      });
      const now = clock.now();
      const id = newId('ref', now);
      const [row] = await tx
        .insert(refunds)
        .values({ id, sessionId: s.id, merchantId, amountMinor: input.amount.minor, currency: input.amount.currency, reason: input.reason, status: 'pending', createdAt: now })
        .returning();
      await transitionSession(tx, s, decision.event, clock, {
        patch: { refundedMinor: decision.refundedAfter.minor },
        reason: input.reason || null,
        refund: { id, amount: toJSON(input.amount), refunded_total: toJSON(decision.refundedAfter) },
      });
      // The safety net, due later: runs only if the inline bank call below does not finish the refund.
      await enqueue(tx, { task: REFUND_AT_BANK_TASK, payload: { refundId: id }, key: `refund:${id}`, runAt: new Date(now.getTime() + 30_000) }, clock);
      return row!;
    });
    try {
      return await refundAtBank(refund.id);
    } catch (err) {
      deps.log?.warn({ refundId: refund.id, err }, 'refund at the bank failed; the job will retry');
      return refund;
    }
  }

  /** Tells the bank about a recorded refund (idempotent by refund id) and marks it succeeded. */
  async function refundAtBank(refundId: string) {
    const [r] = await database.db.select().from(refunds).where(eq(refunds.id, refundId));
    if (!r) throw new DomainError('not_found', { resource: 'refund' });
    if (r.status === 'succeeded') return r;
    const s = await findSession(database.db, r.sessionId);
    if (!s?.bankAuthorizationId) throw new DomainError('refund.not_allowed');
    await issuer.refund(s.bankAuthorizationId, r.id, money(r.amountMinor, r.currency as Currency));
    const [done] = await database.db.update(refunds).set({ status: 'succeeded' }).where(eq(refunds.id, refundId)).returning();
    return done!;
  }

  return {
    createSession,
    cancelSession,
    submitCard,
    applyDecision,
    applyDecisionTx,
    acknowledge,
    acknowledgeByMerchant,
    refuse,
    voidUnacknowledged,
    settle,
    expireSessions,
    recoverInterrupted,
    pollPending,
    createRefund,
    refundAtBank,
    isPaid: (s: SessionRow) => PAID_STATES.includes(s.status),
  };
}

export type Payments = ReturnType<typeof createPayments>;
