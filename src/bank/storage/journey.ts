// The bank's side of one payment's journey, read from its own rows only: the gateway's authorisation
// request as received, the push to the bank app and the cardholder's answer (or its expiry), the
// callbacks to the gateway with their delivery, and the capture, void and refund calls received.
import { asc, eq } from 'drizzle-orm';
import type { JourneyStep } from '../../core/journey.ts';
import { formatMoney, money, type Currency } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import { findByGatewayRef, type AuthorizationRow } from './authorizations.ts';
import { approvalRequests, bankRefunds, gatewayCallbacks, movements } from './tables.ts';

type Approval = typeof approvalRequests.$inferSelect;
type Callback = typeof gatewayCallbacks.$inferSelect;

const amountOf = (minor: bigint, currency: string) => formatMoney(money(minor, currency as Currency));
const bank = (at: Date, step: Omit<JourneyStep, 'at' | 'party'>): JourneyStep => ({
  at: at.toISOString(),
  party: 'bank',
  ...step,
});

/** The authorisation request and the bank's first answer to it. */
function requestSteps(a: AuthorizationRow, approval: Approval | undefined): JourneyStep[] {
  const amount = amountOf(a.amountMinor, a.currency);
  const steps = [
    bank(a.createdAt, {
      from: 'gateway',
      to: 'bank',
      label: `authorise ${amount} on card •••• ${a.cardLast4}`,
      ref: a.id,
    }),
  ];
  if (approval) {
    steps.push(
      bank(approval.createdAt, {
        from: 'bank',
        to: 'bank_app',
        label: `push: approve ${amount} at ${a.merchantName}?`,
        ref: approval.id,
      }),
      bank(approval.createdAt, {
        from: 'bank',
        to: 'gateway',
        label: 'answer: pending, asked the cardholder',
        ref: a.id,
      }),
    );
  } else if (a.status === 'declined' && a.decidedAt && a.decidedAt.getTime() === a.createdAt.getTime()) {
    steps.push(
      bank(a.createdAt, {
        from: 'bank',
        to: 'gateway',
        label: `answer: declined (${a.declineReason ?? 'declined'})`,
        verdict: 'refused',
        ref: a.id,
      }),
    );
  } else if (a.decidedAt && a.decidedAt.getTime() === a.createdAt.getTime()) {
    steps.push(bank(a.createdAt, { from: 'bank', to: 'gateway', label: 'answer: approved', verdict: 'ok', ref: a.id }));
  } else {
    steps.push(bank(a.createdAt, { from: 'bank', to: 'gateway', label: 'answer: pending, deciding', ref: a.id }));
  }
  return steps;
}

/** The cardholder's answer in the app, or the request's expiry. */
function approvalSteps(approval: Approval | undefined): JourneyStep[] {
  if (!approval) return [];
  if (approval.status === 'approved' || approval.status === 'declined')
    return [
      bank(approval.answeredAt ?? approval.createdAt, {
        from: 'bank_app',
        to: 'bank',
        label: approval.status === 'approved' ? 'cardholder approves' : 'cardholder declines',
        verdict: approval.status === 'approved' ? 'ok' : 'refused',
        ref: approval.id,
      }),
    ];
  if (approval.status === 'expired')
    return [
      bank(approval.expiresAt, {
        from: 'bank',
        to: 'bank',
        label: 'no answer in the app: request timed out',
        verdict: 'refused',
        ref: approval.id,
      }),
    ];
  return [];
}

/** Each callback with its delivery: delivered, or still being retried (with the last error). */
function callbackSteps(callbacks: readonly Callback[]): JourneyStep[] {
  return callbacks.map((cb) => {
    const type = (() => {
      try {
        return String((JSON.parse(cb.body) as { type?: string }).type ?? 'callback');
      } catch {
        return 'callback';
      }
    })();
    const tries = cb.attempts > 1 ? ` after ${cb.attempts} tries` : '';
    if (cb.status === 'delivered')
      return bank(cb.deliveredAt ?? cb.createdAt, {
        from: 'bank',
        to: 'gateway',
        label: `callback ${type} delivered${tries}`,
        verdict: 'ok',
        ref: cb.id,
      });
    return bank(cb.createdAt, {
      from: 'bank',
      to: 'gateway',
      label: `callback ${type}: ${cb.attempts} tries so far${cb.lastError ? ` (${cb.lastError.slice(0, 60)})` : ''}`,
      verdict: 'retry',
      ref: cb.id,
    });
  });
}

/** The bank's steps for the payment the gateway refers to as `gatewayRef` (empty when it never saw it). */
export async function bankJourney(db: Executor, gatewayRef: string): Promise<JourneyStep[]> {
  const a = await findByGatewayRef(db, gatewayRef);
  if (!a) return [];
  // One after another: `db` is the signed request's transaction, one connection, which runs one
  // statement at a time (pg queues a second query on a busy client, and warns that pg 9 will not).
  const approvals = await db.select().from(approvalRequests).where(eq(approvalRequests.authorizationId, a.id));
  const callbacks = await db
    .select()
    .from(gatewayCallbacks)
    .where(eq(gatewayCallbacks.authorizationId, a.id))
    .orderBy(asc(gatewayCallbacks.createdAt));
  const moves = await db
    .select()
    .from(movements)
    .where(eq(movements.authorizationId, a.id))
    .orderBy(asc(movements.createdAt));
  const refunds = await db
    .select()
    .from(bankRefunds)
    .where(eq(bankRefunds.authorizationId, a.id))
    .orderBy(asc(bankRefunds.createdAt));
  const approval = approvals[0];
  const steps = [...requestSteps(a, approval), ...approvalSteps(approval), ...callbackSteps(callbacks)];
  for (const m of moves.filter((x) => x.kind === 'capture'))
    steps.push(
      bank(m.createdAt, {
        from: 'gateway',
        to: 'bank',
        label: `capture ${amountOf(-m.amountMinor, m.currency)}: money taken`,
        verdict: 'ok',
        ref: m.id,
      }),
    );
  if (a.status === 'voided')
    steps.push(
      bank(a.updatedAt, { from: 'gateway', to: 'bank', label: 'void: hold released', verdict: 'ok', ref: a.id }),
    );
  for (const r of refunds)
    steps.push(
      bank(r.createdAt, {
        from: 'gateway',
        to: 'bank',
        label: `refund ${amountOf(r.amountMinor, r.currency)}`,
        verdict: 'ok',
        ref: r.id,
      }),
    );
  return steps;
}
