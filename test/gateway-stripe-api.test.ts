// The gateway's Stripe-compatible API driven by the official `stripe` SDK, against the real gateway and
// the real bank: a Checkout Session paid on the hosted page and captured (the capture is the
// acknowledgement), a cancel that releases the bank's hold, refunds that never exceed the capture,
// idempotency with Stripe's rules, Stripe's errors, and a payment approved in the bank app.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { eventually } from '../src/gateway/testing.ts';
import { startStripeSystem, type StripeSystem } from './support/stripe-gateway.ts';

const lineItems = (unit = 1250, quantity = 2) => [
  { price_data: { currency: 'eur', unit_amount: unit, product_data: { name: 'Wool socks' } }, quantity },
];

describe('gateway Stripe API (official SDK)', () => {
  let t: StripeSystem;
  before(async () => {
    t = await startStripeSystem();
  });
  after(async () => {
    await t?.stop();
  });

  /** A manual-capture Checkout Session paid on the hosted page: its PaymentIntent requires_capture. */
  async function paidCheckout(number = '4242424242424242') {
    const cs = await t.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: lineItems(),
      client_reference_id: 'order-17',
      metadata: { order: '17' },
      payment_intent_data: { capture_method: 'manual', metadata: { order: '17' } },
      success_url: 'https://shop.test/thanks?session={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://shop.test/cart',
    });
    const paid = await t.payOnPage(cs.url!, number);
    assert.equal(paid.status, 200);
    return { cs, sessionId: `ps_${cs.id.slice(3)}`, first: paid.body.status };
  }

  it('a Checkout Session opens our hosted page; paid there it requires_capture, and the capture succeeds at the bank', async () => {
    const { cs, sessionId, first } = await paidCheckout();
    assert.match(cs.id, /^cs_/);
    assert.equal(cs.object, 'checkout.session');
    assert.equal(cs.url, `${t.gw.url}/pay/${sessionId}`);
    assert.equal(cs.amount_total, 2500);
    assert.equal(cs.currency, 'eur');
    assert.equal(cs.status, 'open');
    assert.equal(first, 'authorized');

    const got = await t.stripe.checkout.sessions.retrieve(cs.id, { expand: ['payment_intent'] });
    assert.equal(got.status, 'complete');
    assert.equal(got.payment_status, 'unpaid');
    assert.equal(got.url, null);
    const pi = got.payment_intent as Stripe.PaymentIntent;
    assert.equal(pi.id, `pi_${cs.id.slice(3)}`);
    assert.equal(pi.status, 'requires_capture');
    assert.equal(pi.amount_capturable, 2500);
    assert.equal(pi.amount_received, 0);
    assert.deepEqual(pi.metadata, { order: '17' });
    assert.equal(got.client_reference_id, 'order-17');
    assert.equal(await t.bankStatus(sessionId), 'approved', 'held at the bank, not captured');

    const captured = await t.stripe.paymentIntents.capture(pi.id);
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 2500);
    assert.equal(captured.amount_capturable, 0);
    assert.equal(await t.bankStatus(sessionId), 'captured');
    assert.equal((await t.stripe.checkout.sessions.retrieve(cs.id)).payment_status, 'paid');
    // The payer goes back to success_url with the Checkout Session id filled in.
    const page = (await (await fetch(`${cs.url}/status`)).json()) as { return_url: string };
    assert.equal(page.return_url, `https://shop.test/thanks?session=${cs.id}`);

    await assert.rejects(t.stripe.paymentIntents.capture(pi.id), (err: unknown) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.code, 'payment_intent_unexpected_state');
      return true;
    });
  });

  it('a cancel of an authorised PaymentIntent voids the hold at the bank: canceled, never captured', async () => {
    const { cs, sessionId } = await paidCheckout();
    const pi = await t.stripe.paymentIntents.cancel(`pi_${cs.id.slice(3)}`, {
      cancellation_reason: 'requested_by_customer',
    });
    assert.equal(pi.status, 'canceled');
    assert.equal(pi.cancellation_reason, 'requested_by_customer');
    assert.equal(pi.amount_received, 0);
    assert.equal(await t.bankStatus(sessionId), 'voided');
    assert.equal((await t.sessionRow(sessionId)).captured_minor, '0');
    await assert.rejects(t.stripe.paymentIntents.capture(pi.id), Stripe.errors.StripeInvalidRequestError);
  });

  it('refunds: a partial one, then the remainder by default; one more is refused', async () => {
    const { cs, sessionId } = await paidCheckout();
    const piId = `pi_${cs.id.slice(3)}`;
    await t.stripe.paymentIntents.capture(piId);
    const partial = await t.stripe.refunds.create({
      payment_intent: piId,
      amount: 1000,
      reason: 'requested_by_customer',
      metadata: { rma: '9' },
    });
    assert.match(partial.id, /^re_/);
    assert.equal(partial.amount, 1000);
    assert.equal(partial.payment_intent, piId);
    assert.equal(partial.charge, `ch_${cs.id.slice(3)}`);
    assert.equal(partial.reason, 'requested_by_customer');
    assert.deepEqual(partial.metadata, { rma: '9' });
    await assert.rejects(t.stripe.refunds.create({ payment_intent: piId, amount: 1501 }), (err: unknown) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.code, 'amount_too_large');
      assert.equal(err.param, 'amount');
      return true;
    });
    const rest = await t.stripe.refunds.create({ charge: `ch_${cs.id.slice(3)}` });
    assert.equal(rest.amount, 1500);
    assert.equal((await t.stripe.refunds.retrieve(rest.id)).amount, 1500);
    await assert.rejects(
      t.stripe.refunds.create({ payment_intent: piId, amount: 1 }),
      Stripe.errors.StripeInvalidRequestError,
    );
    await eventually(async () => ((await t.bankStatus(sessionId)).includes('refunded') ? true : undefined));
  });

  it("idempotency: the same key and parameters replay the first answer; other parameters are Stripe's idempotency_error", async () => {
    const params = { amount: 700, currency: 'eur', capture_method: 'manual' as const };
    const first = await t.stripe.paymentIntents.create(params, { idempotencyKey: 'order-idem-1' });
    const again = await t.stripe.paymentIntents.create(params, { idempotencyKey: 'order-idem-1' });
    assert.equal(again.id, first.id);
    assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
    await assert.rejects(
      t.stripe.paymentIntents.create({ ...params, amount: 701 }, { idempotencyKey: 'order-idem-1' }),
      Stripe.errors.StripeIdempotencyError,
    );
  });

  it("Stripe's errors: a missing parameter names it; a declined card is a card error with its decline code", async () => {
    await assert.rejects(t.stripe.paymentIntents.create({ amount: 500 } as never), (err: unknown) => {
      assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(err.param, 'currency');
      assert.equal(err.statusCode, 400);
      return true;
    });
    for (const [pm, decline] of [
      ['pm_card_visa_chargeDeclined', 'generic_decline'],
      ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
    ]) {
      await assert.rejects(
        t.stripe.paymentIntents.create({ amount: 900, currency: 'eur', confirm: true, payment_method: pm }),
        (err: unknown) => {
          assert.ok(err instanceof Stripe.errors.StripeCardError, String(err));
          assert.equal(err.statusCode, 402);
          assert.equal(err.code, 'card_declined');
          assert.equal(err.decline_code, decline);
          assert.equal(err.payment_intent?.status, 'requires_payment_method');
          return true;
        },
      );
    }
    await assert.rejects(
      t.stripe.paymentIntents.create({ amount: 900, currency: 'eur', unknown_thing: 'x' } as never),
      (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && err.param === 'unknown_thing',
    );
  });

  it('pm_card_authenticationRequired requires_action until the cardholder approves in the bank app, then requires_capture', async () => {
    const pi = await t.stripe.paymentIntents.create({
      amount: 4200,
      currency: 'eur',
      capture_method: 'manual',
      confirm: true,
      payment_method: 'pm_card_authenticationRequired',
    });
    assert.equal(pi.status, 'requires_action');
    assert.equal(pi.next_action?.type, 'redirect_to_url');
    assert.equal((await t.approveInBankApp(`ps_${pi.id.slice(3)}`)).status, 200);
    const approved = await eventually(async () => {
      const now = await t.stripe.paymentIntents.retrieve(pi.id);
      return now.status === 'requires_capture' ? now : undefined;
    }, 20_000);
    assert.equal(approved.amount_capturable, 4200);
    assert.equal((await t.stripe.paymentIntents.capture(pi.id)).status, 'succeeded');
  });

  it('capture_method=automatic with pm_card_visa succeeds in the request, captured at the bank', async () => {
    const pi = await t.stripe.paymentIntents.create({
      amount: 1999,
      currency: 'eur',
      confirm: true,
      payment_method: 'pm_card_visa',
    });
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount_received, 1999);
    assert.equal(pi.latest_charge, `ch_${pi.id.slice(3)}`);
    assert.equal(await t.bankStatus(`ps_${pi.id.slice(3)}`), 'captured');
  });

  it('expire: an open Checkout Session expires once; its URL is gone and paying it is refused', async () => {
    const cs = await t.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: lineItems(300, 1),
      success_url: 'https://shop.test/ok',
    });
    const expired = await t.stripe.checkout.sessions.expire(cs.id);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.url, null);
    await assert.rejects(t.stripe.checkout.sessions.expire(cs.id), Stripe.errors.StripeInvalidRequestError);
    assert.notEqual((await t.payOnPage(cs.url!)).status, 200);
    await assert.rejects(
      t.stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: lineItems(),
        expires_at: Math.floor(Date.now() / 1000) + 600,
      }),
      (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && err.param === 'expires_at',
    );
  });
});
