/**
 * Stripe's objects as the shop's neutral payment news (pure: no I/O, no clock). A Checkout Session
 * (`cs_…`) is our session id; its PaymentIntent carries the status. A PaymentIntent, refund or charge
 * does not name its Checkout Session, so the adapter resolves that first and passes it in here.
 *
 * Sequence: Stripe has no per-object version, only `created` (unix seconds) on events. Our sequence is
 * `seconds * 16 + rank(state)`, so that of two changes in the same second the later one in a payment's
 * life (authorised before captured before refunded) counts as newer.
 */
import type Stripe from 'stripe';
import { money, parseCurrency, type Money } from '../../core/money.ts';
import type { PaymentEvent, PaymentSessionStatus, SessionState } from '../domain/gateway.port.ts';

/** The event types the shop reads (webhook endpoint's enabled events and the feed's `types[]`). */
export const STRIPE_EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.expired',
  'payment_intent.processing',
  'payment_intent.amount_capturable_updated',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'refund.created',
  'refund.updated',
] as const;

const RANK: Record<SessionState, number> = {
  open: 0,
  pending: 1,
  declined: 2,
  authorized: 3,
  captured: 4,
  expired: 5,
  canceled: 5,
  voided: 6,
  refunded: 7,
};

/** The neutral sequence of a state observed at a unix time (seconds). */
export function stripeSequence(unixSeconds: number, state: SessionState): number {
  return Math.floor(unixSeconds) * 16 + RANK[state];
}

/** Stripe's lower-case currency and integer amount as our Money (throws on a currency we do not know). */
export function stripeMoney(amount: number, currency: string): Money {
  return money(BigInt(amount), parseCurrency(currency.toUpperCase()));
}

/**
 * A PaymentIntent's state. With manual capture `requires_capture` is the authorisation; a cancelled
 * PaymentIntent that had a charge was an authorisation released (voided), one without was never paid.
 */
export function paymentIntentState(pi: Pick<Stripe.PaymentIntent, 'status' | 'latest_charge' | 'last_payment_error'>) {
  switch (pi.status) {
    case 'requires_payment_method':
      // Back to waiting after a failed try: the try was declined (Checkout lets the payer try again).
      return pi.last_payment_error ? 'declined' : 'open';
    case 'requires_confirmation':
      return 'open';
    case 'requires_action':
    case 'processing':
      return 'pending';
    case 'requires_capture':
      return 'authorized';
    case 'succeeded':
      return 'captured';
    case 'canceled':
      return pi.latest_charge ? 'voided' : 'canceled';
    default:
      return 'pending';
  }
}

/** A charge's refund state: refunded in full, or still captured (partly refunded). */
function chargeState(charge: Pick<Stripe.Charge, 'refunded'>): SessionState {
  return charge.refunded ? 'refunded' : 'captured';
}

/** The card that paid, from a charge (brand and last four only). */
export function cardOf(charge: Stripe.Charge | string | null | undefined): PaymentSessionStatus['card'] {
  const card = typeof charge === 'object' && charge ? charge.payment_method_details?.card : undefined;
  return card?.brand && card.last4 ? { brand: card.brand, last4: card.last4 } : undefined;
}

/** A Checkout Session (with its PaymentIntent expanded, or null) as the neutral status, observed at `unixSeconds`. */
export function sessionSnapshot(
  cs: Stripe.Checkout.Session,
  pi: Stripe.PaymentIntent | null,
  unixSeconds: number,
): PaymentSessionStatus {
  let status: SessionState;
  if (pi) status = paymentIntentState(pi);
  else status = cs.status === 'expired' ? 'expired' : cs.status === 'complete' ? 'captured' : 'open';
  if (pi?.status === 'canceled' && cs.status === 'expired') status = 'expired';
  const charge = pi && typeof pi.latest_charge === 'object' ? pi.latest_charge : null;
  if (status === 'captured' && charge) status = chargeState(charge);
  const amount = status === 'authorized' && pi ? pi.amount_capturable : (cs.amount_total ?? pi?.amount ?? 0);
  return {
    sessionId: cs.id,
    status,
    amount: stripeMoney(amount, cs.currency ?? pi?.currency ?? ''),
    invoiceId: cs.client_reference_id ?? '',
    sequence: stripeSequence(unixSeconds, status),
    reason:
      pi?.last_payment_error?.decline_code ?? pi?.last_payment_error?.code ?? pi?.cancellation_reason ?? undefined,
    redirectUrl: cs.url ?? undefined,
    card: cardOf(charge),
  };
}

/** What the event is about, before its Checkout Session is known: the PaymentIntent to resolve it from. */
export function paymentIntentOf(event: Stripe.Event): string | undefined {
  const o = event.data.object as { object?: string; id?: string; payment_intent?: unknown };
  if (o.object === 'payment_intent') return o.id;
  if (typeof o.payment_intent === 'string') return o.payment_intent;
  if (o.payment_intent && typeof o.payment_intent === 'object') return (o.payment_intent as { id: string }).id;
  return undefined;
}

/** Where the event's PaymentIntent belongs (resolved by the adapter): its Checkout Session and our invoice. */
export interface Owner {
  readonly sessionId: string;
  readonly invoiceId: string;
}

/** Refund news needs the charge's refunded total and whether that is all of it (read by the adapter). */
export type ChargeTotals = Pick<Stripe.Charge, 'amount' | 'amount_refunded' | 'refunded' | 'currency'>;

/**
 * A Stripe event as neutral payment news, or null when it carries nothing the shop acts on (a type we
 * do not read, a refund not yet succeeded). `owner` is the Checkout Session of a PaymentIntent event
 * (for one not from our Checkout Sessions: the PaymentIntent itself and the invoice its metadata names).
 */
export function neutralEvent(
  event: Stripe.Event,
  source: PaymentEvent['source'],
  owner: Owner | undefined,
  charge?: ChargeTotals,
): PaymentEvent | null {
  const base = { id: event.id, source } as const;
  const type = event.type as string;
  if (type === 'checkout.session.completed' || type === 'checkout.session.expired') {
    const cs = event.data.object as Stripe.Checkout.Session;
    // Card payments with manual capture complete `unpaid`: authorised, waiting for our capture.
    const status: SessionState =
      type === 'checkout.session.expired' ? 'expired' : cs.payment_status === 'paid' ? 'captured' : 'authorized';
    if (type === 'checkout.session.completed' && cs.payment_status === 'no_payment_required') return null;
    return {
      ...base,
      sessionId: cs.id,
      invoiceId: cs.client_reference_id ?? '',
      status,
      amount: stripeMoney(cs.amount_total ?? 0, cs.currency ?? ''),
      sequence: stripeSequence(event.created, status),
    };
  }
  if (!owner) return null;
  if (type.startsWith('payment_intent.')) {
    const pi = event.data.object as Stripe.PaymentIntent;
    const status = paymentIntentState(pi);
    // Nothing happened yet (payment_intent.created): no news. It would arrive while "Pay now" is still
    // storing the session's id, and be taken for a session of ours we never stored (adopted twice).
    if (status === 'open') return null;
    return {
      ...base,
      sessionId: owner.sessionId,
      invoiceId: owner.invoiceId,
      status,
      amount: stripeMoney(status === 'authorized' ? pi.amount_capturable : pi.amount, pi.currency),
      sequence: stripeSequence(event.created, status),
      reason: pi.last_payment_error?.decline_code ?? pi.last_payment_error?.code ?? pi.cancellation_reason ?? undefined,
    };
  }
  if (type === 'refund.created' || type === 'refund.updated') {
    const refund = event.data.object as Stripe.Refund;
    if (refund.status !== 'succeeded' || !charge) return null;
    const status = chargeState(charge);
    return {
      ...base,
      sessionId: owner.sessionId,
      invoiceId: owner.invoiceId,
      status,
      // The payment's amount, as in every other piece of news about it (the refund's is in `refund`).
      amount: stripeMoney(charge.amount, charge.currency),
      sequence: stripeSequence(event.created, status),
      refund: {
        id: refund.id,
        amount: stripeMoney(refund.amount, refund.currency),
        refundedTotal: stripeMoney(charge.amount_refunded, charge.currency),
      },
    };
  }
  return null;
}
