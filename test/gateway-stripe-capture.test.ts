// The acknowledgement invariant on the Stripe edge, with the official SDK against the real gateway and
// bank: a PaymentIntent with capture_method=manual, authorised, is captured only by the merchant's
// `capture` call. Until then it stays requires_capture (the bank's hold uncaptured) — also while its
// webhooks are delivered and answered 2xx, which acknowledges nothing — and it ends canceled when the
// merchant cancels it or at its approval expiry (the merchant's acknowledgement window, 6 s here).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { eventually } from '../src/gateway/testing.ts';
import { paidCheckout, stripeReceiver } from './support/stripe-events-support.ts';
import { startStripeSystem, type StripeSystem } from './support/stripe-gateway.ts';

const WINDOW_S = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the gateway never captures a Stripe payment the merchant did not capture', () => {
  let t: StripeSystem;
  let shop: Awaited<ReturnType<typeof stripeReceiver>>;
  before(async () => {
    t = await startStripeSystem({ ackWindowSeconds: WINDOW_S });
    shop = await stripeReceiver(t.stripe);
    // A merchant endpoint that answers 200 to every event: a 2xx is not a capture.
    const endpoint = await t.stripe.webhookEndpoints.create({ url: shop.url, enabled_events: ['*'] });
    shop.setSecret(endpoint.secret!);
  });
  after(async () => {
    await shop?.close();
    await t?.stop();
  });

  /** An authorised PaymentIntent (confirmed with pm_card_visa), its session id, and a time just before it was authorised. */
  async function authorised() {
    // Taken before the call: the window starts later than this, so "not before its end" measured from
    // here is sound however long the call took to answer.
    const at = Date.now();
    const pi = await t.stripe.paymentIntents.create({
      amount: 4200,
      currency: 'eur',
      capture_method: 'manual',
      confirm: true,
      payment_method: 'pm_card_visa',
    });
    assert.equal(pi.status, 'requires_capture');
    assert.equal(pi.amount_capturable, 4200);
    return { pi, sessionId: `ps_${pi.id.slice(3)}`, at };
  }

  it('uncaptured, it stays requires_capture while its webhooks are answered 200, then is canceled at its expiry: never captured', async () => {
    const { pi, sessionId, at } = await authorised();
    await eventually(
      () => shop.eventsAbout(sessionId).find((e) => e.type === 'payment_intent.amount_capturable_updated'),
      10_000,
      'the authorisation delivered and answered 200',
    );
    // Halfway through the window: nothing captured, by the gateway or the bank. An answer counts only
    // if it came back before the window could have ended (it started after `at`): a machine that
    // stalled past the end has nothing to say about the middle, and the checks below still hold.
    await sleep(Math.max(0, (WINDOW_S * 1000) / 2 - (Date.now() - at)));
    const inWindow = () => Date.now() - at < WINDOW_S * 1000;
    const waiting = await t.stripe.paymentIntents.retrieve(pi.id);
    if (inWindow()) {
      assert.equal(waiting.status, 'requires_capture');
      assert.equal(waiting.amount_received, 0);
    }
    const held = await t.bankStatus(sessionId);
    if (inWindow()) assert.equal(held, 'approved', 'held at the bank, not captured');

    const canceled = await eventually(
      async () => {
        const now = await t.stripe.paymentIntents.retrieve(pi.id);
        return now.status === 'requires_capture' ? undefined : now;
      },
      WINDOW_S * 1000 + 20_000,
      'released at the end of the window',
    );
    assert.ok(Date.now() - at >= WINDOW_S * 1000 - 500, 'not before the window ended');
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.cancellation_reason, 'automatic');
    assert.equal(canceled.amount_received, 0);
    assert.equal(canceled.amount_capturable, 0);
    assert.equal(await t.bankStatus(sessionId), 'voided');
    assert.equal((await t.sessionRow(sessionId)).captured_minor, '0');
    // Too late: a capture now is refused, and nothing is captured.
    await assert.rejects(t.stripe.paymentIntents.capture(pi.id), Stripe.errors.StripeInvalidRequestError);
    assert.equal(await t.bankStatus(sessionId), 'voided');
    const types = (await t.stripe.events.list({ limit: 100 })).data
      .filter((e) => (e.data.object as { id?: string }).id === pi.id)
      .map((e) => e.type);
    assert.ok(types.includes('payment_intent.canceled'), JSON.stringify(types));
    assert.ok(!types.includes('payment_intent.succeeded'), JSON.stringify(types));
  });

  it('canceled by the merchant on requires_capture: released at once, never captured', async () => {
    const { pi, sessionId } = await authorised();
    const canceled = await t.stripe.paymentIntents.cancel(pi.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.amount_received, 0);
    assert.equal(await t.bankStatus(sessionId), 'voided');
    await assert.rejects(t.stripe.paymentIntents.capture(pi.id), Stripe.errors.StripeInvalidRequestError);
    assert.equal((await t.sessionRow(sessionId)).captured_minor, '0');
  });

  it('captured by the merchant within the window: succeeded, and the bank captured exactly the authorised amount', async () => {
    const { pi, sessionId } = await authorised();
    assert.equal(await t.bankStatus(sessionId), 'approved', 'held at the bank, not captured');
    const captured = await t.stripe.paymentIntents.capture(pi.id);
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 4200);
    assert.equal(await t.bankStatus(sessionId), 'captured');
    // Captured, it stays so after the window: the expiry releases only what was never captured.
    await sleep(WINDOW_S * 1000 + 1_000);
    assert.equal((await t.stripe.paymentIntents.retrieve(pi.id)).status, 'succeeded');
    assert.equal(await t.bankStatus(sessionId), 'captured');
  });

  it('a Checkout Session paid on the hosted page is no exception: requires_capture until captured or released', async () => {
    const { pi, sessionId } = await paidCheckout(t.stripe, t.gw.url);
    assert.equal((await t.stripe.paymentIntents.retrieve(pi)).status, 'requires_capture');
    assert.equal(await t.bankStatus(sessionId), 'approved', 'held at the bank, not captured');
    const released = await eventually(
      async () => {
        const now = await t.stripe.paymentIntents.retrieve(pi);
        return now.status === 'requires_capture' ? undefined : now;
      },
      WINDOW_S * 1000 + 20_000,
      'released',
    );
    assert.equal(released.status, 'canceled');
    assert.equal(await t.bankStatus(sessionId), 'voided');
  });
});
