// Stripe objects as views of our rows: a payment session is a PaymentIntent, a Charge
// and, when it was opened as one, a Checkout Session; a refund row is a Refund. Ids are derived from
// ours (ps_X ⇄ cs_X, pi_X, ch_X; ref_X ⇄ re_X). Pure: the same rows always render the same object.
// Field names and types follow Stripe's own example objects; a field we do not model is null (or an
// empty list/map where Stripe never sends null), never an invented value.
import type { SessionStatus } from '../../domain/session.machine.ts';
import type { StripeSessionExtras } from '../../domain/stripe.ts';
import type { RefundRow, SessionRow } from '../../storage/tables.ts';

/** What rendering needs beyond the rows. */
export interface RenderContext {
  /** The gateway's public base URL (the hosted page lives under it). */
  readonly publicUrl: string;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Stripe ids derived from ours, and back; `null` when the id is not one of ours. */
export const stripeIds = {
  checkoutSession: (sessionId: string) => `cs_${sessionId.slice(3)}`,
  paymentIntent: (sessionId: string) => `pi_${sessionId.slice(3)}`,
  charge: (sessionId: string) => `ch_${sessionId.slice(3)}`,
  refund: (refundId: string) => `re_${refundId.slice(4)}`,
  /** The session id behind `cs_X`, `pi_X` or `ch_X` (the prefix must be the one expected). */
  sessionOf(stripeId: string, prefix: 'cs' | 'pi' | 'ch'): string | null {
    const body = stripeId.startsWith(`${prefix}_`) ? stripeId.slice(prefix.length + 1) : '';
    return ULID.test(body) ? `ps_${body}` : null;
  },
  /** The refund id behind `re_X`. */
  refundOf(stripeId: string): string | null {
    const body = stripeId.startsWith('re_') ? stripeId.slice(3) : '';
    return ULID.test(body) ? `ref_${body}` : null;
  },
};

const unix = (d: Date) => Math.floor(d.getTime() / 1000);
const amount = (minor: bigint) => Number(minor);
const PAID: readonly SessionStatus[] = ['captured', 'partially_refunded', 'refunded'];
const extras = (s: SessionRow): StripeSessionExtras =>
  s.stripe ?? {
    checkout: null,
    payment_intent_metadata: {},
    description: null,
    payment_method: null,
    cancellation_reason: null,
  };

/** Stripe's PaymentIntent status for a session. */
export function paymentIntentStatus(s: SessionRow): string {
  switch (s.status) {
    case 'created':
    case 'declined':
      // Stripe returns a failed attempt to requires_payment_method, with last_payment_error.
      return 'requires_payment_method';
    case 'processing':
      return 'processing';
    case 'requires_approval':
      return 'requires_action';
    case 'authorized':
      // An automatic capture is on its way (acknowledged at authorisation): not yet succeeded.
      return s.captureMethod === 'automatic' ? 'processing' : 'requires_capture';
    case 'captured':
    case 'partially_refunded':
    case 'refunded':
      return 'succeeded';
    case 'voided':
    case 'expired':
    case 'canceled':
      return 'canceled';
  }
}

/** Stripe's cancellation_reason: the merchant's, or what the gateway did on its own. */
function cancellationReason(s: SessionRow): string | null {
  if (paymentIntentStatus(s) !== 'canceled') return null;
  const given = extras(s).cancellation_reason;
  if (given) return given;
  if (s.status === 'voided' && s.voidReason === 'acknowledgement_timeout') return 'automatic';
  if (s.status === 'expired') return 'expired';
  return null;
}

/** Stripe's decline_code for a bank decline reason. */
export function declineCode(reason: string | null): string {
  switch (reason) {
    case 'insufficient_funds':
    case 'expired_card':
    case 'incorrect_cvc':
      return reason;
    case 'invalid_cvc':
      return 'incorrect_cvc';
    case 'unknown_card':
      return 'invalid_account';
    default:
      return 'generic_decline';
  }
}

/** The error of the last failed attempt, in Stripe's error shape; null when none failed. */
export function lastPaymentError(s: SessionRow): Record<string, unknown> | null {
  if (s.status === 'declined') {
    // A refusal in the bank app is a failed authentication, not a card decline.
    if (s.declineReason === 'approval_declined' || s.declineReason === 'approval_expired')
      return {
        type: 'invalid_request_error',
        code: 'payment_intent_authentication_failure',
        message: 'The provided PaymentMethod has failed authentication.',
        payment_method: null,
      };
    const decline = declineCode(s.declineReason);
    return {
      type: 'card_error',
      code: decline === 'expired_card' || decline === 'incorrect_cvc' ? decline : 'card_declined',
      decline_code: decline,
      message: decline === 'insufficient_funds' ? 'Your card has insufficient funds.' : 'Your card was declined.',
      charge: stripeIds.charge(s.id),
      payment_method: null,
    };
  }
  if (s.status === 'created' && s.lastError)
    return {
      type: 'card_error',
      code: 'processing_error',
      message: 'An error occurred while processing your card. Try again in a little bit.',
      payment_method: null,
    };
  return null;
}

/** Whether a charge exists: the bank was asked and answered. */
function hasCharge(s: SessionRow): boolean {
  return s.bankAuthorizationId !== null || s.status === 'declined';
}

/** A session as a Stripe PaymentIntent. */
export function paymentIntentObject(s: SessionRow, ctx: RenderContext): Record<string, unknown> {
  const x = extras(s);
  const status = paymentIntentStatus(s);
  return {
    id: stripeIds.paymentIntent(s.id),
    object: 'payment_intent',
    amount: amount(s.amountMinor),
    amount_capturable: s.status === 'authorized' ? amount(s.amountMinor) : 0,
    amount_received: amount(s.capturedMinor),
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: status === 'canceled' ? unix(s.updatedAt) : null,
    cancellation_reason: cancellationReason(s),
    capture_method: s.captureMethod === 'automatic' ? 'automatic' : 'manual',
    client_secret: null,
    confirmation_method: 'automatic',
    created: unix(s.createdAt),
    currency: s.currency.toLowerCase(),
    customer: null,
    description: x.description,
    last_payment_error: lastPaymentError(s),
    latest_charge: hasCharge(s) ? stripeIds.charge(s.id) : null,
    livemode: false,
    metadata: x.payment_intent_metadata,
    next_action:
      status === 'requires_action'
        ? {
            type: 'redirect_to_url',
            redirect_to_url: { url: `${ctx.publicUrl}/pay/${s.id}`, return_url: x.checkout?.success_url ?? null },
          }
        : null,
    on_behalf_of: null,
    payment_method: x.payment_method,
    payment_method_configuration_details: null,
    payment_method_types: ['card'],
    processing: status === 'processing' ? { type: 'card' } : null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status,
    transfer_data: null,
    transfer_group: null,
  };
}

/** Stripe's Checkout Session status and payment_status for a session. */
export function checkoutStatus(s: SessionRow): { status: string; payment_status: string } {
  const payment_status = PAID.includes(s.status) ? 'paid' : 'unpaid';
  if (s.status === 'expired' || s.status === 'canceled') return { status: 'expired', payment_status };
  if (['created', 'processing', 'requires_approval', 'declined'].includes(s.status))
    return { status: 'open', payment_status };
  // Authorised (a manual capture is still unpaid), captured, refunded, or voided after authorisation.
  return { status: 'complete', payment_status };
}

/**
 * A session opened as a Checkout Session, as Stripe renders it; `null` for a PaymentIntent created
 * directly (it has no Checkout Session). Its PaymentIntent as an id (charges.routes.ts expands it).
 */
export function checkoutSessionObject(s: SessionRow, ctx: RenderContext): Record<string, unknown> | null {
  const checkout = extras(s).checkout;
  if (!checkout) return null;
  const { status, payment_status } = checkoutStatus(s);
  const total = amount(s.amountMinor);
  return {
    id: stripeIds.checkoutSession(s.id),
    object: 'checkout.session',
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: total,
    amount_total: total,
    automatic_tax: { enabled: false, liability: null, status: null },
    billing_address_collection: null,
    cancel_url: checkout.cancel_url,
    client_reference_id: checkout.client_reference_id,
    client_secret: null,
    consent: null,
    consent_collection: null,
    created: unix(s.createdAt),
    currency: s.currency.toLowerCase(),
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: null,
    customer_creation: null,
    customer_details: null,
    customer_email: null,
    expires_at: unix(s.expiresAt),
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    metadata: checkout.metadata,
    mode: 'payment',
    payment_intent: stripeIds.paymentIntent(s.id),
    payment_link: null,
    payment_method_collection: null,
    payment_method_types: ['card'],
    payment_status,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status,
    submit_type: null,
    subscription: null,
    success_url: checkout.success_url,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    // Stripe shows the URL only while the session can be paid.
    url: status === 'open' ? `${ctx.publicUrl}/pay/${s.id}` : null,
  };
}

/**
 * The session's Charge (the attempt at the bank), or null before the bank answered. `disputed`: whether
 * the payment was ever disputed (storage/disputes.ts `wasDisputed`), which the session row does not hold.
 */
export function chargeObject(s: SessionRow, disputed: boolean): Record<string, unknown> | null {
  if (!hasCharge(s)) return null;
  const failed = s.status === 'declined';
  const error = lastPaymentError(s);
  return {
    id: stripeIds.charge(s.id),
    object: 'charge',
    amount: amount(s.amountMinor),
    amount_captured: amount(s.capturedMinor),
    amount_refunded: amount(s.refundedMinor),
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: null,
      name: null,
      phone: null,
    },
    calculated_statement_descriptor: null,
    captured: s.capturedMinor > 0n,
    created: unix(s.authorizedAt ?? s.updatedAt),
    currency: s.currency.toLowerCase(),
    customer: null,
    description: extras(s).description,
    disputed,
    failure_balance_transaction: null,
    failure_code: failed ? ((error?.code as string | undefined) ?? 'card_declined') : null,
    failure_message: failed ? ((error?.message as string | undefined) ?? null) : null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: null,
    paid: !failed,
    payment_intent: stripeIds.paymentIntent(s.id),
    payment_method: extras(s).payment_method,
    payment_method_details: {
      type: 'card',
      card: { brand: s.cardBrand ?? null, last4: s.cardLast4 ?? null, fingerprint: s.cardFingerprint ?? null },
    },
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: s.status === 'refunded',
    review: null,
    shipping: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: failed ? 'failed' : 'succeeded',
    transfer_data: null,
    transfer_group: null,
  };
}

/** A refund row as a Stripe Refund. */
export function refundObject(r: RefundRow): Record<string, unknown> {
  return {
    id: stripeIds.refund(r.id),
    object: 'refund',
    amount: amount(r.amountMinor),
    balance_transaction: null,
    charge: stripeIds.charge(r.sessionId),
    created: unix(r.createdAt),
    currency: r.currency.toLowerCase(),
    metadata: r.stripe?.metadata ?? {},
    payment_intent: stripeIds.paymentIntent(r.sessionId),
    reason: r.stripe?.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: r.status,
    transfer_reversal: null,
  };
}
