// The gateway's side of one payment's journey, read from its own rows only: the session's creation and
// the card's submission, its events (the bank's answers as the gateway applied them, capture, void,
// refunds), every webhook delivery attempt with the shop's answer, the acknowledgement, the bank's
// callbacks received and the refunds asked for. The bank's side is fetched from the bank, never copied.
import { attemptsOfDeliveries } from './deliveries.ts';
import { asc, eq, inArray } from 'drizzle-orm';
import type { JourneyStep } from '../../core/journey.ts';
import { formatMoney, money, type Currency } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { EventPayload } from './events.ts';
import {
  bankCallbacks,
  events,
  refunds,
  webhookAttempts,
  webhookDeliveries,
  type EventRow,
  type SessionRow,
} from './tables.ts';

type Attempt = typeof webhookAttempts.$inferSelect;
type Delivery = typeof webhookDeliveries.$inferSelect;

// A session in one of these, with no webhook delivery still pending, will not move by itself any more.
const SETTLED = ['captured', 'voided', 'declined', 'expired', 'canceled', 'partially_refunded', 'refunded'];

const amountOf = (minor: bigint, currency: string) => formatMoney(money(minor, currency as Currency));
const gw = (at: Date, step: Omit<JourneyStep, 'at' | 'party'>): JourneyStep => ({
  at: at.toISOString(),
  party: 'gateway',
  ...step,
});

/** What an event of the session stands for on the diagram. */
function eventStep(e: EventRow, s: SessionRow): JourneyStep | undefined {
  const data = (e.payload as EventPayload).data;
  const reason = data.reason ? ` (${data.reason})` : '';
  const at = e.createdAt;
  const ref = e.id;
  switch (e.type) {
    case 'payment.requires_approval':
      return gw(at, { from: 'gateway', to: 'gateway', label: 'requires approval: waiting for the bank app', ref });
    case 'payment.authorized':
      return gw(at, { from: 'gateway', to: 'gateway', label: 'authorized by the bank', verdict: 'ok', ref });
    case 'payment.declined':
      return gw(at, { from: 'gateway', to: 'gateway', label: `declined${reason}`, verdict: 'refused', ref });
    case 'payment.captured':
      return gw(at, {
        from: 'gateway',
        to: 'bank',
        label: `capture ${amountOf(s.capturedMinor || s.amountMinor, s.currency)}`,
        verdict: 'ok',
        ref,
      });
    case 'payment.voided':
      return gw(at, { from: 'gateway', to: 'bank', label: `void${reason}`, verdict: 'refused', ref });
    case 'payment.expired':
    case 'payment.canceled':
      return gw(at, { from: 'gateway', to: 'gateway', label: `${e.type.slice(8)}${reason}`, verdict: 'refused', ref });
    case 'payment.refunded':
    case 'payment.partially_refunded': {
      const r = data.refund;
      const amount = r ? ` ${formatMoney(money(BigInt(r.amount.minor), r.amount.currency as Currency))}` : '';
      return gw(at, { from: 'gateway', to: 'bank', label: `refund${amount}`, verdict: 'ok', ref });
    }
    default:
      return undefined;
  }
}

/** One webhook attempt: the shop's answer as the gateway got it, or the failure to get one. */
function attemptStep(type: string, a: Attempt, last: boolean, delivery: Delivery): JourneyStep {
  const n = `#${a.attempt}`;
  if (a.statusCode !== null) {
    const ok = a.statusCode >= 200 && a.statusCode < 300;
    const verdict = ok
      ? 'ok'
      : a.statusCode >= 500
        ? last && delivery.status !== 'pending'
          ? 'error'
          : 'retry'
        : 'refused';
    return gw(a.createdAt, {
      from: 'shop',
      to: 'gateway',
      label: `${a.statusCode} to webhook ${type} (${n}, ${a.latencyMs} ms)`,
      verdict,
      ref: delivery.id,
    });
  }
  return gw(a.createdAt, {
    from: 'gateway',
    to: 'shop',
    label: `webhook ${type}, ${n}: ${(a.error ?? 'no answer').slice(0, 60)}`,
    verdict: last && delivery.status !== 'pending' ? 'error' : 'retry',
    ref: delivery.id,
  });
}

/** The acknowledgement of the authorisation, as the gateway decided it. */
function acknowledgementStep(s: SessionRow): JourneyStep | undefined {
  if (!s.acknowledgement) return undefined;
  const at = s.acknowledgedAt ?? s.updatedAt;
  if (s.acknowledgement === 'acknowledged')
    return gw(at, { from: 'gateway', to: 'gateway', label: 'acknowledgement recorded: will capture', verdict: 'ok' });
  const label =
    s.acknowledgement === 'refused'
      ? 'the shop refused the authorisation: will void'
      : 'no acknowledgement in time: will void';
  return gw(at, { from: 'gateway', to: 'gateway', label, verdict: 'refused' });
}

/** The session's own steps: creation and the card (its acknowledgement is placed after the answers). */
function sessionSteps(s: SessionRow): JourneyStep[] {
  const steps = [
    gw(s.createdAt, {
      from: 'shop',
      to: 'gateway',
      label: `create session ${amountOf(s.amountMinor, s.currency)} for ${s.merchantReference}`,
      verdict: 'ok',
      ref: s.id,
    }),
  ];
  if (s.cardSubmittedAt)
    steps.push(
      gw(s.cardSubmittedAt, {
        from: 'browser',
        to: 'gateway',
        label: `card ${s.cardBrand ?? ''} •••• ${s.cardLast4 ?? '????'} submitted on the hosted page`,
        ref: s.id,
      }),
    );
  return steps;
}

/** The gateway's steps for one session (already checked to be the caller's) and whether it has settled. */
export async function gatewayJourney(db: Executor, s: SessionRow): Promise<{ steps: JourneyStep[]; settled: boolean }> {
  const [evts, callbacks, refundRows] = await Promise.all([
    db.select().from(events).where(eq(events.sessionId, s.id)).orderBy(asc(events.cursor)),
    s.bankAuthorizationId
      ? db.select().from(bankCallbacks).where(eq(bankCallbacks.authorizationId, s.bankAuthorizationId))
      : Promise.resolve([]),
    db.select().from(refunds).where(eq(refunds.sessionId, s.id)).orderBy(asc(refunds.createdAt)),
  ]);
  const deliveries = evts.length
    ? await db
        .select()
        .from(webhookDeliveries)
        .where(
          inArray(
            webhookDeliveries.eventId,
            evts.map((e) => e.id),
          ),
        )
    : [];
  const attempts = await attemptsOfDeliveries(
    db,
    deliveries.map((d) => d.id),
  );
  const steps = sessionSteps(s);
  for (const cb of callbacks)
    steps.push(
      gw(cb.receivedAt, { from: 'bank', to: 'gateway', label: `callback ${cb.type} received`, ref: cb.webhookId }),
    );
  for (const r of refundRows)
    steps.push(
      gw(r.createdAt, {
        from: 'shop',
        to: 'gateway',
        label: `refund ${amountOf(r.amountMinor, r.currency)} asked for`,
        ref: r.id,
      }),
    );
  for (const e of evts) {
    const step = eventStep(e, s);
    if (step) steps.push(step);
    for (const d of deliveries.filter((x) => x.eventId === e.id)) {
      const mine = attempts.filter((a) => a.deliveryId === d.id);
      mine.forEach((a, i) => {
        steps.push(attemptStep(e.type, a, i === mine.length - 1, d));
      });
    }
  }
  // Last given, so first after the answer that carried it when both have the same millisecond (the
  // answer's attempt and the acknowledgement are written in one statement).
  const ack = acknowledgementStep(s);
  if (ack) steps.push(ack);
  const settled = SETTLED.includes(s.status) && !deliveries.some((d) => d.status === 'pending');
  return { steps, settled };
}
