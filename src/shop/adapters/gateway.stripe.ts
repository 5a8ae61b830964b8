/**
 * The shop's gateway port on Stripe, through the official SDK (`stripe`). "Pay now" is a Checkout
 * Session (`mode=payment`, `client_reference_id` = our invoice, manual capture, our attempt id as the
 * Idempotency-Key); its `cs_…` id is our session id and its PaymentIntent carries the status. The
 * shop's verdict is explicit (`acknowledgement: 'explicit'`): an accepted authorisation is captured,
 * a refused one cancelled, each by a durable job. With `apiUrl` the SDK talks to that host/port/protocol
 * (our gateway's Stripe dialect); without it, to Stripe itself. Nothing here assumes our gateway: ids
 * are never derived from each other (a PaymentIntent's Checkout Session is looked up by the API).
 */
import type { Agent } from 'node:http';
import Stripe from 'stripe';
import { DomainError } from '../../core/errors.ts';
import type {
  EventPage,
  GatewayPort,
  PaymentEvent,
  PaymentSession,
  PaymentSessionRequest,
  PaymentSessionStatus,
  RefundRequest,
  RefundResult,
} from '../domain/gateway.port.ts';
import {
  neutralEvent,
  paymentIntentOf,
  sessionSnapshot,
  STRIPE_EVENT_TYPES,
  type ChargeTotals,
  type Owner,
} from './stripe-mapping.ts';
import { attemptTime, whileKeyInUse } from './stripe-idempotency.ts';
import { stripeDisputeCalls } from './stripe-disputes.ts';

export interface StripeAdapterOptions {
  /** `sk_test_…` / `sk_live_…` (or a restricted `rk_…`). */
  readonly secretKey: string;
  /** Unset: Stripe itself. Set: the SDK's host, port and protocol (e.g. our gateway's URL). */
  readonly apiUrl?: string | undefined;
  /** Per request; default 10000 ms. */
  readonly timeoutMs?: number;
  /** The SDK's own retries of network errors, 409 and 5xx, with the same Idempotency-Key; default 2. */
  readonly maxNetworkRetries?: number;
  readonly httpAgent?: Agent; // for https with a private CA (our gateway under `npm start -- --tls`)
  readonly now?: () => Date;
}

/** Stripe's Checkout Session must live at least 30 minutes and at most 24 hours from its creation. */
const MIN_SESSION_SECONDS = 30 * 60 + 60;
const MAX_SESSION_SECONDS = 24 * 3600 - 60;

/** The Checkout Session's `expires_at`: the invoice's expiry, clamped into Stripe's window. */
export function checkoutExpiry(invoiceExpiresAt: Date, now: Date): number {
  const at = Math.floor(invoiceExpiresAt.getTime() / 1000);
  const nowS = Math.floor(now.getTime() / 1000);
  return Math.min(Math.max(at, nowS + MIN_SESSION_SECONDS), nowS + MAX_SESSION_SECONDS);
}

/** Builds the SDK client for a configuration (exported for the webhook route's verification and tests). */
export function stripeClient(options: StripeAdapterOptions): Stripe {
  const url = options.apiUrl ? new URL(options.apiUrl) : undefined;
  return new Stripe(options.secretKey, {
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 10_000,
    telemetry: false,
    ...(url
      ? {
          host: url.hostname,
          port: url.port || (url.protocol === 'https:' ? 443 : 80),
          protocol: url.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
    ...(options.httpAgent ? { httpAgent: options.httpAgent } : {}),
  });
}

/**
 * A failure of the SDK as the shop's error: retryable ones (network, 409 in progress, 429, 5xx, after
 * the SDK's own retries) as `upstream.unavailable` with `retryable`, a refusal (4xx) with its status and
 * Stripe's code; never the key.
 */
export function stripeFailure(err: unknown, what: string): DomainError {
  if (!(err instanceof Stripe.errors.StripeError)) return new DomainError('upstream.unavailable', { what });
  const status = err.statusCode;
  const details = { what, status: status ?? null, code: err.code ?? err.type };
  if (status === undefined || status >= 500 || status === 409 || status === 429)
    return new DomainError('upstream.unavailable', { ...details, retryable: true });
  return new DomainError(status === 404 ? 'not_found' : 'upstream.unavailable', details);
}

const isRefusal = (err: DomainError) => !err.details?.retryable && typeof err.details?.status === 'number';
/**
 * A read the adapter can do without (a refusal, e.g. an API that lacks it, leaves the news to other
 * events and the status read): undefined on a 4xx; retryable failures still throw.
 */
async function refusedAsUndefined<T>(run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DomainError && isRefusal(err)) return undefined;
    throw err;
  }
}

async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw stripeFailure(err, what);
  }
}

/** The server's time of an answer (its Date header), so that a status read is ordered on Stripe's clock. */
function serverSeconds(obj: { lastResponse?: { headers?: Record<string, string> } }, now: () => Date): number {
  const date = obj.lastResponse?.headers?.date;
  const t = date ? Date.parse(date) : NaN;
  return Math.floor((Number.isNaN(t) ? now().getTime() : t) / 1000);
}

/** The adapter's reads that map Stripe objects (resolving a PaymentIntent's Checkout Session, a refund's charge). */
function readers(stripe: Stripe) {
  const owners = new Map<string, Owner>();
  return {
    /** The Checkout Session a PaymentIntent was made by; a PaymentIntent made otherwise is its own, of no invoice of ours. */
    async ownerOf(paymentIntent: string): Promise<Owner | undefined> {
      const known = owners.get(paymentIntent);
      if (known) return known;
      const page = await refusedAsUndefined(() =>
        call('checkout session of payment intent', () =>
          stripe.checkout.sessions.list({ payment_intent: paymentIntent, limit: 1 }),
        ),
      );
      if (!page) return undefined;
      const cs = page.data[0];
      const owner = cs
        ? { sessionId: cs.id, invoiceId: cs.client_reference_id ?? '' }
        : { sessionId: paymentIntent, invoiceId: '' };
      if (owners.size >= 10_000) owners.delete(owners.keys().next().value!);
      owners.set(paymentIntent, owner);
      return owner;
    },
    /** The PaymentIntent of one of our session ids (a Checkout Session's, or a PaymentIntent's own), or null before the payer paid. */
    async paymentIntentId(sessionId: string): Promise<string | null> {
      if (sessionId.startsWith('pi_')) return sessionId;
      const cs = await call('retrieve checkout session', () => stripe.checkout.sessions.retrieve(sessionId));
      const pi = cs.payment_intent;
      return typeof pi === 'string' ? pi : (pi?.id ?? null);
    },
    async chargeTotals(refund: Stripe.Refund): Promise<ChargeTotals | undefined> {
      if (refund.charge && typeof refund.charge === 'object') return refund.charge;
      if (typeof refund.charge !== 'string') return undefined;
      const id = refund.charge;
      return refusedAsUndefined(() => call('retrieve charge', () => stripe.charges.retrieve(id)));
    },
  };
}

export interface StripeGateway extends GatewayPort, Pick<ReturnType<typeof stripeDisputeCalls>, 'toDisputeNews'> {
  /** A verified Stripe event as neutral news (null: nothing the shop acts on). */
  toPaymentEvent(event: Stripe.Event, source: PaymentEvent['source']): Promise<PaymentEvent | null>;
}

/** Creates the Stripe adapter; nothing is sent until a method is called. */
export function createStripeAdapter(options: StripeAdapterOptions, stripe = stripeClient(options)): StripeGateway {
  const now = options.now ?? (() => new Date());
  const read = readers(stripe);

  async function toPaymentEvent(event: Stripe.Event, source: PaymentEvent['source']): Promise<PaymentEvent | null> {
    if ((event.type as string).startsWith('checkout.session.')) return neutralEvent(event, source, undefined);
    const pi = paymentIntentOf(event);
    if (!pi) return null;
    const owner = await read.ownerOf(pi);
    if (!owner) return null;
    const isRefund = (event.data.object as { object?: string }).object === 'refund';
    const refund = event.data.object as Stripe.Refund;
    const charge = isRefund && refund.status === 'succeeded' ? await read.chargeTotals(refund) : undefined;
    if (isRefund && !charge) return null;
    return neutralEvent(event, source, owner, charge);
  }

  async function getSession(sessionId: string): Promise<PaymentSessionStatus> {
    if (sessionId.startsWith('pi_')) {
      const pi = await call('retrieve payment intent', () => stripe.paymentIntents.retrieve(sessionId));
      const fake = { id: pi.id, status: 'complete', amount_total: pi.amount, currency: pi.currency } as const;
      return sessionSnapshot(fake as unknown as Stripe.Checkout.Session, pi, serverSeconds(pi, now));
    }
    const cs = await call('retrieve checkout session', () =>
      stripe.checkout.sessions.retrieve(sessionId, { expand: ['payment_intent'] }),
    );
    let pi = cs.payment_intent;
    if (typeof pi === 'string') {
      const id = pi;
      pi = await call('retrieve payment intent', () => stripe.paymentIntents.retrieve(id));
    }
    if (pi && typeof pi.latest_charge === 'string' && pi.status === 'succeeded') {
      // The charge says whether it was refunded in full, and which card paid; without it: captured.
      const chargeId = pi.latest_charge;
      const charge = await refusedAsUndefined(() => call('retrieve charge', () => stripe.charges.retrieve(chargeId)));
      if (charge) pi = { ...pi, latest_charge: charge };
    }
    return sessionSnapshot(cs, pi ?? null, serverSeconds(cs, now));
  }

  return {
    ...stripeDisputeCalls(stripe, read, call),
    acknowledgement: 'explicit',
    toPaymentEvent,
    getSession,
    createSession: (request) => createCheckoutSession(stripe, request, now()),
    async cancelSession(sessionId: string): Promise<void> {
      try {
        if (sessionId.startsWith('pi_'))
          await call('cancel payment intent', () => stripe.paymentIntents.cancel(sessionId));
        else
          await call('expire checkout session', () =>
            stripe.checkout.sessions.expire(sessionId, {}, { idempotencyKey: `cancel:${sessionId}` }),
          );
      } catch (err) {
        // Not open any more (completed or expired): as our gateway's 409; what it became reaches us as news.
        if (err instanceof DomainError && isRefusal(err) && err.details?.status !== 404)
          throw new DomainError('conflict', { ...err.details, status: 409 });
        throw err;
      }
    },
    async captureSession(sessionId: string): Promise<boolean> {
      const pi = await read.paymentIntentId(sessionId);
      if (!pi) return false;
      try {
        const captured = await call('capture payment intent', () =>
          stripe.paymentIntents.capture(pi, {}, { idempotencyKey: `capture:${pi}` }),
        );
        return captured.status === 'succeeded';
      } catch (err) {
        if (!(err instanceof DomainError) || !isRefusal(err)) throw err;
        // Refused (not capturable): captured before, or released meanwhile.
        const current = await call('retrieve payment intent', () => stripe.paymentIntents.retrieve(pi));
        return current.status === 'succeeded';
      }
    },
    async refuseSession(sessionId: string): Promise<void> {
      const pi = await read.paymentIntentId(sessionId);
      if (!pi) return;
      try {
        await call('cancel payment intent', () =>
          stripe.paymentIntents.cancel(pi, {}, { idempotencyKey: `refuse:${pi}` }),
        );
      } catch (err) {
        // Not cancellable (cancelled already, or no longer an authorisation): nothing left to release.
        if (!(err instanceof DomainError) || !isRefusal(err)) throw err;
      }
    },
    createRefund: (request) => refundPayment(stripe, read, request),
    async listEvents(after: string | null, limit = 100): Promise<EventPage> {
      const types = [...STRIPE_EVENT_TYPES];
      const page = after
        ? await call('list events', () => stripe.events.list({ ending_before: after, limit, types }))
        : await oldestPage(stripe, limit, types);
      const events: PaymentEvent[] = [];
      // Stripe lists newest first: applied oldest first, and the cursor is the newest read.
      for (const e of [...page.data].reverse()) {
        const neutral = await toPaymentEvent(e, 'feed');
        if (neutral) events.push(neutral);
      }
      return { events, nextCursor: page.data[0]?.id ?? after, hasMore: page.has_more };
    },
  };
}

/** From the start: the oldest page of the list (Stripe keeps 30 days); has_more says whether newer ones follow. */
async function oldestPage(
  stripe: Stripe,
  limit: number,
  types: string[],
): Promise<{ data: Stripe.Event[]; has_more: boolean }> {
  let page = await call('list events', () => stripe.events.list({ limit, types }));
  let newer = false;
  while (page.has_more && page.data.length) {
    const last = page.data[page.data.length - 1]!.id;
    page = await call('list events', () => stripe.events.list({ limit, types, starting_after: last }));
    newer = true;
  }
  return { data: page.data, has_more: newer };
}

/** "Pay now": a Checkout Session for the invoice, keyed by the attempt id (a retried request is one session). */
async function createCheckoutSession(
  stripe: Stripe,
  request: PaymentSessionRequest,
  now: Date,
): Promise<PaymentSession> {
  const metadata = { invoice_id: request.invoiceId, attempt_id: request.attemptId };
  const cs = await call('create checkout session', () =>
    whileKeyInUse(() =>
      stripe.checkout.sessions.create(
        {
          mode: 'payment',
          client_reference_id: request.invoiceId,
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: request.amount.currency.toLowerCase(),
                unit_amount: Number(request.amount.minor),
                product_data: { name: request.description.slice(0, 200) },
              },
            },
          ],
          payment_intent_data: { capture_method: 'manual', description: request.description.slice(0, 200), metadata },
          metadata,
          expires_at: checkoutExpiry(request.expiresAt, attemptTime(request.attemptId, now)),
          success_url: request.returnUrl,
          cancel_url: request.returnUrl,
        },
        { idempotencyKey: request.attemptId },
      ),
    ),
  );
  if (!cs.url) throw new DomainError('upstream.unavailable', { what: 'checkout session without url' });
  return { sessionId: cs.id, redirectUrl: cs.url };
}

/** A refund of the session's PaymentIntent, keyed by our refund id; a 4xx is Stripe's final refusal. */
async function refundPayment(
  stripe: Stripe,
  read: ReturnType<typeof readers>,
  request: RefundRequest,
): Promise<RefundResult> {
  try {
    const pi = await read.paymentIntentId(request.sessionId);
    if (!pi) return { refundId: '', status: 'failed', reason: 'not_paid' };
    const r = await call('create refund', () =>
      stripe.refunds.create(
        {
          payment_intent: pi,
          amount: Number(request.amount.minor),
          reason: 'requested_by_customer',
          metadata: { refund_id: request.refundId, reason: request.reason.slice(0, 500) },
        },
        { idempotencyKey: request.refundId },
      ),
    );
    if (r.status === 'failed' || r.status === 'canceled')
      return { refundId: r.id, status: 'failed', reason: r.failure_reason ?? r.status };
    return { refundId: r.id, status: r.status === 'succeeded' ? 'succeeded' : 'pending' };
  } catch (err) {
    // A 4xx is Stripe's refusal (e.g. amount too large): final. Network errors and 5xx throw (the job retries).
    if (err instanceof DomainError && isRefusal(err))
      return { refundId: '', status: 'failed', reason: String(err.details?.code ?? 'refused') };
    throw err;
  }
}
