// /v1/payment_intents: create (optionally confirmed at once with one of Stripe's test PaymentMethods),
// retrieve, confirm, capture (the acknowledgement, ) and cancel (the refusal).
import { newId } from '../../../core/ids.ts';
import { parseCurrency } from '../../../core/money.ts';
import { cancelPayment } from '../../commands/cancel-payment.ts';
import { capturePayment } from '../../commands/capture-payment.ts';
import { createSession } from '../../commands/create-session.ts';
import { settleSession } from '../../commands/settle-session.ts';
import { submitCard } from '../../commands/submit-card.ts';
import type { CaptureMethod, StripeSessionExtras } from '../../domain/stripe.ts';
import { findSession, setStripeExtras } from '../../storage/sessions.ts';
import type { SessionRow } from '../../storage/tables.ts';
import { invalidParam, StripeApiError, unexpectedState } from './errors.ts';
import { allowOnly, bool, expand, int, metadata, oneOf, requiredStr, str, type Params } from './form.ts';
import { paymentIntentExpanded } from './lookups.routes.ts';
import { lastPaymentError, paymentIntentObject, paymentIntentStatus, stripeIds } from './objects.ts';
import { stripeSession, type StripeDeps, type StripeRouter } from './context.ts';

/** Stripe's test PaymentMethods, as the bank's test cards (the bank issues no Mastercard: it pays as the Visa). */
const TEST_PAYMENT_METHODS: Readonly<Record<string, string>> = {
  pm_card_visa: '4242424242424242',
  pm_card_mastercard: '4242424242424242',
  pm_card_visa_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_authenticationRequired: '4000002500003155',
};

/** Stripe's capture_method; automatic_async is automatic here (captures are not batched). */
function captureMethodParam(params: Params): CaptureMethod {
  const given = oneOf(params, 'capture_method', ['automatic', 'automatic_async', 'manual']);
  return given === 'manual' ? 'manual' : 'automatic';
}

/** The test card behind a PaymentMethod id, or Stripe's 400 naming the parameter. */
function testCardOf(paymentMethod: string): string {
  const number = TEST_PAYMENT_METHODS[paymentMethod];
  if (!number)
    throw invalidParam(
      'payment_method',
      `No such PaymentMethod: '${paymentMethod.slice(0, 80)}'. This gateway knows Stripe's test PaymentMethods: ${Object.keys(TEST_PAYMENT_METHODS).join(', ')}.`,
      'resource_missing',
    );
  return number;
}

/**
 * Confirms a session with a test PaymentMethod: the card goes to the bank as on the hosted page.
 * An automatic capture is carried out in the request; a decline is Stripe's 402 card_error.
 */
async function confirmWith(
  deps: StripeDeps,
  s: SessionRow,
  paymentMethod: string,
  publicUrl: string,
): Promise<SessionRow> {
  const number = testCardOf(paymentMethod);
  if (s.status !== 'created')
    throw unexpectedState(
      `You cannot confirm this PaymentIntent because it has a status of ${paymentIntentStatus(s)}.`,
    );
  if (s.stripe && s.stripe.payment_method !== paymentMethod)
    await setStripeExtras(deps.gateway.database.db, s.id, { ...s.stripe, payment_method: paymentMethod });
  let after = await submitCard(deps.gateway, s.id, {
    number,
    exp_month: 12,
    exp_year: 2034,
    cvc: '123',
    name: 'Stripe test card',
  });
  deps.wake();
  if (after.status === 'authorized' && after.captureMethod === 'automatic') {
    after = (await settleSession(deps.gateway, after.id).catch(() => undefined)) ?? after;
  }
  if (after.status === 'declined') {
    const error = lastPaymentError(after) ?? {};
    throw new StripeApiError(402, {
      type: 'card_error',
      message: String(error.message ?? 'Your card was declined.'),
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
      ...(typeof error.decline_code === 'string' ? { decline_code: error.decline_code } : {}),
      payment_intent: paymentIntentObject(after, { publicUrl }),
    });
  }
  return after;
}

/** Registers the PaymentIntent routes. */
export function paymentIntentRoutes(router: StripeRouter, deps: StripeDeps): void {
  const { database, clock } = deps.gateway;
  const render = (s: SessionRow) => paymentIntentObject(s, { publicUrl: deps.publicUrl() });

  router.post('/v1/payment_intents', async (c) => {
    const p = c.env.params;
    allowOnly(p, [
      'amount',
      'currency',
      'capture_method',
      'confirm',
      'payment_method',
      'payment_method_types',
      'description',
      'metadata',
    ]);
    const amount = int(p, 'amount');
    if (amount === undefined) throw invalidParam('amount', 'Missing required param: amount.', 'parameter_missing');
    if (amount < 1) throw invalidParam('amount', 'Amount must be at least 1 (minor units).', 'amount_too_small');
    const currencyCode = requiredStr(p, 'currency').toUpperCase();
    let currency: ReturnType<typeof parseCurrency>;
    try {
      currency = parseCurrency(currencyCode);
    } catch {
      throw invalidParam('currency', `Invalid currency: ${currencyCode.slice(0, 8).toLowerCase()}.`);
    }
    const paymentMethod = str(p, 'payment_method', 'payment_method', 100) ?? null;
    if (paymentMethod) testCardOf(paymentMethod);
    const confirm = bool(p, 'confirm') ?? false;
    if (confirm && !paymentMethod)
      throw invalidParam(
        'payment_method',
        'A PaymentIntent confirmed here needs a payment_method.',
        'parameter_missing',
      );
    const description = str(p, 'description', 'description', 1000) ?? null;
    const stripe: StripeSessionExtras = {
      checkout: null,
      payment_intent_metadata: metadata(p),
      description,
      payment_method: paymentMethod,
      cancellation_reason: null,
    };
    const now = clock.now();
    const id = newId('ps', now);
    let s = await createSession(deps.gateway, {
      id,
      merchantId: c.env.merchant.id,
      amount: { minor: BigInt(amount), currency },
      merchantReference: stripeIds.paymentIntent(id),
      description: description ?? '',
      // A PaymentIntent has no expiry at Stripe; an unpaid one here lapses after 7 days.
      expiresAt: new Date(now.getTime() + 7 * 86400_000),
      returnUrl: null,
      cancelUrl: null,
      api: 'stripe',
      captureMethod: captureMethodParam(p),
      stripe,
    });
    if (confirm && paymentMethod) s = await confirmWith(deps, s, paymentMethod, deps.publicUrl());
    return c.json(render(s), 200);
  });

  router.get('/v1/payment_intents/:id', async (c) => {
    allowOnly(c.env.params, []);
    const s = await stripeSession(database, c.env.merchant.id, c.req.param('id'), 'pi');
    return c.json(
      await paymentIntentExpanded(database.db, s, { publicUrl: deps.publicUrl() }, expand(c.env.params)),
      200,
    );
  });

  router.post('/v1/payment_intents/:id/confirm', async (c) => {
    const p = c.env.params;
    allowOnly(p, ['payment_method', 'return_url']);
    const s = await stripeSession(database, c.env.merchant.id, c.req.param('id'), 'pi');
    const paymentMethod = str(p, 'payment_method', 'payment_method', 100) ?? s.stripe?.payment_method;
    if (!paymentMethod)
      throw invalidParam('payment_method', 'You must provide a payment_method to confirm.', 'parameter_missing');
    return c.json(render(await confirmWith(deps, s, paymentMethod, deps.publicUrl())), 200);
  });

  router.post('/v1/payment_intents/:id/capture', async (c) => {
    const p = c.env.params;
    allowOnly(p, ['amount_to_capture']);
    const s = await stripeSession(database, c.env.merchant.id, c.req.param('id'), 'pi');
    const status = paymentIntentStatus(s);
    if (status !== 'requires_capture' || s.acknowledgement === 'refused' || s.acknowledgement === 'timed_out')
      throw unexpectedState(
        `This PaymentIntent could not be captured because it has a status of ${status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
      );
    // What is captured is what was authorised: a partial capture is not offered, a larger one never.
    const asked = int(p, 'amount_to_capture');
    if (asked !== undefined && BigInt(asked) !== s.amountMinor)
      throw invalidParam(
        'amount_to_capture',
        `amount_to_capture must equal the amount capturable (${s.amountMinor}); partial captures are not supported here.`,
      );
    const captured = await capturePayment(deps.gateway, c.env.merchant.id, s.id);
    deps.wake();
    return c.json(render(captured), 200);
  });

  router.post('/v1/payment_intents/:id/cancel', async (c) => {
    const p = c.env.params;
    allowOnly(p, ['cancellation_reason']);
    const reason =
      oneOf(p, 'cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']) ?? null;
    const s = await stripeSession(database, c.env.merchant.id, c.req.param('id'), 'pi');
    const status = paymentIntentStatus(s);
    const cancelable = s.status === 'created' || (status === 'requires_capture' && s.acknowledgement === null);
    if (!cancelable)
      throw unexpectedState(
        `You cannot cancel this PaymentIntent because it has a status of ${status}. Only a PaymentIntent with one of the following statuses may be canceled here: requires_payment_method, requires_capture.`,
      );
    const canceled = await cancelPayment(deps.gateway, c.env.merchant.id, s.id, reason);
    deps.wake();
    return c.json(render((await findSession(database.db, canceled.id)) ?? canceled), 200);
  });
}
