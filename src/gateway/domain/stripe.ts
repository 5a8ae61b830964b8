// What a Stripe-dialect session carries beyond a native one: the dialect, the capture
// method, and the Checkout Session / PaymentIntent fields a merchant gave, kept as given. Pure types
// and rules; the rendering of Stripe objects is the edge's (routes/stripe/objects.ts).

/** Which API a key speaks and a session was opened through. */
export type ApiDialect = 'native' | 'stripe';

/**
 * When an authorisation is captured: `on_acknowledgement` (native: the shop's 2xx to the webhook or
 * POST …/acknowledge), `manual` (Stripe: POST /v1/payment_intents/{id}/capture), `automatic`
 * (Stripe: acknowledged at authorisation and captured at once).
 */
export type CaptureMethod = 'on_acknowledgement' | 'manual' | 'automatic';

/** A Checkout Session line item, as given through `line_items[][price_data]`. */
export interface StripeLineItem {
  readonly name: string;
  readonly quantity: number;
  readonly unit_amount: number;
  readonly currency: string;
}

/** The Checkout Session a session was opened as (absent for a PaymentIntent created directly). */
export interface StripeCheckoutExtras {
  readonly client_reference_id: string | null;
  readonly metadata: Record<string, string>;
  readonly success_url: string | null;
  readonly cancel_url: string | null;
  readonly line_items: readonly StripeLineItem[];
  /** Set when the merchant expired it (POST …/expire) rather than the clock. */
  readonly expired_by_merchant?: boolean;
}

/** Stripe fields of a Stripe-dialect session (the `stripe` jsonb column). */
export interface StripeSessionExtras {
  readonly checkout: StripeCheckoutExtras | null;
  /** PaymentIntent metadata (payment_intent_data[metadata] or metadata of POST /v1/payment_intents). */
  readonly payment_intent_metadata: Record<string, string>;
  /** The PaymentIntent's description as given (null when none). */
  readonly description: string | null;
  /** The test PaymentMethod a PaymentIntent was confirmed with (`pm_card_visa`…), else null. */
  readonly payment_method: string | null;
  /** The merchant's cancellation_reason on POST …/cancel. */
  readonly cancellation_reason: string | null;
}

/** Stripe fields of a refund made through the Stripe API. */
export interface StripeRefundExtras {
  readonly metadata: Record<string, string>;
  /** duplicate | fraudulent | requested_by_customer, or null. */
  readonly reason: string | null;
}
