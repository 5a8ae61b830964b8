/**
 * Which Stripe events one of our session events becomes, for a session opened through the Stripe API
 *. Each Stripe event carries one object, rendered as it stands after the change:
 *
 *   ours                         capture_method  Stripe events, in this order
 *   (session created)            any             payment_intent.created
 *   payment.requires_approval    any             payment_intent.requires_action      (bank-app approval ≈ 3-D Secure)
 *   payment.authorized           manual          payment_intent.amount_capturable_updated, checkout.session.completed*
 *   payment.authorized           automatic       (nothing yet: captured at once, see payment.captured)
 *   payment.captured             manual          payment_intent.succeeded, charge.succeeded**, charge.captured**
 *   payment.captured             automatic       payment_intent.succeeded, charge.succeeded**, checkout.session.completed*
 *   payment.declined             any             payment_intent.payment_failed
 *   payment.voided               any             payment_intent.canceled              (cancel on requires_capture, or no capture in the window)
 *   payment.canceled             any             payment_intent.canceled, checkout.session.expired*
 *   payment.expired              any             payment_intent.canceled, checkout.session.expired*
 *   payment.partially_refunded   any             refund.created, charge.refunded**
 *   payment.refunded             any             refund.created, charge.refunded**
 *   (refund succeeded at bank)   any             refund.updated
 *   dispute.created / .updated / .closed         charge.dispute.created / .updated / .closed (storage/dispute-events.ts)
 *
 *   * only for a session opened as a Checkout Session (a PaymentIntent created directly has none).
 *   ** only when charges are rendered (the renderer offers a charge).
 */

/** The Stripe object an event carries in `data.object`. */
export type StripeObjectKind = 'payment_intent' | 'checkout_session' | 'charge' | 'refund';

/** One Stripe event to write. */
export interface StripeEventPlan {
  readonly type: string;
  readonly object: StripeObjectKind;
}

/** What the mapping needs to know of the session. */
export interface StripeEventContext {
  readonly captureMethod: string;
  readonly hasCheckout: boolean;
  readonly rendersCharges: boolean;
}

/** Every type the gateway may emit: what `enabled_events[]` and the events list's filters accept. */
export const STRIPE_EVENT_TYPES = [
  'payment_intent.created',
  'payment_intent.requires_action',
  'payment_intent.amount_capturable_updated',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'checkout.session.completed',
  'checkout.session.expired',
  'charge.succeeded',
  'charge.captured',
  'charge.refunded',
  'refund.created',
  'refund.updated',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
] as const;

export type StripeEventType = (typeof STRIPE_EVENT_TYPES)[number];

/** Whether a string names an event type the gateway emits. */
export function isStripeEventType(type: string): type is StripeEventType {
  return (STRIPE_EVENT_TYPES as readonly string[]).includes(type);
}

const pi = (type: string): StripeEventPlan => ({ type, object: 'payment_intent' });
const cs = (type: string): StripeEventPlan => ({ type, object: 'checkout_session' });
const ch = (type: string): StripeEventPlan => ({ type, object: 'charge' });

/** The Stripe events for one of our session event types (see the table above); [] when none. */
export function stripeEventsFor(ourType: string, ctx: StripeEventContext): StripeEventPlan[] {
  const checkout = (type: string) => (ctx.hasCheckout ? [cs(type)] : []);
  const charge = (type: string) => (ctx.rendersCharges ? [ch(type)] : []);
  const manual = ctx.captureMethod === 'manual';
  switch (ourType) {
    case 'payment.created':
      return [pi('payment_intent.created')];
    case 'payment.requires_approval':
      return [pi('payment_intent.requires_action')];
    case 'payment.authorized':
      return manual ? [pi('payment_intent.amount_capturable_updated'), ...checkout('checkout.session.completed')] : [];
    case 'payment.captured':
      return manual
        ? [pi('payment_intent.succeeded'), ...charge('charge.succeeded'), ...charge('charge.captured')]
        : [pi('payment_intent.succeeded'), ...charge('charge.succeeded'), ...checkout('checkout.session.completed')];
    case 'payment.declined':
      return [pi('payment_intent.payment_failed')];
    case 'payment.voided':
      return [pi('payment_intent.canceled')];
    case 'payment.canceled':
    case 'payment.expired':
      return [pi('payment_intent.canceled'), ...checkout('checkout.session.expired')];
    case 'payment.partially_refunded':
    case 'payment.refunded':
      return [{ type: 'refund.created', object: 'refund' }, ...charge('charge.refunded')];
    case 'refund.succeeded':
      return [{ type: 'refund.updated', object: 'refund' }];
    default:
      return [];
  }
}
