// The attacker's view of the gateway's Stripe edge: another merchant's key never reads, captures,
// cancels or refunds your objects (404 resource_missing, word for word what a made-up id gets); a key
// of one dialect is refused on the other dialect's paths; no amount in the URL or the form changes what
// is captured; another merchant replaying your Idempotency-Key does not get your answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { TEST_STRIPE_API_KEY } from '../src/gateway/testing.ts';
import { startStripeSystem, type StripeSystem } from './support/stripe-gateway.ts';

/** The error a call throws (the test fails if it does not throw). */
async function thrown(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof Stripe.errors.StripeError, String(err));
    return err;
  }
  assert.fail('the call succeeded');
}

describe("gateway Stripe API: the attacker's view", () => {
  let t: StripeSystem;
  before(async () => {
    t = await startStripeSystem();
  });
  after(async () => {
    await t?.stop();
  });

  async function authorisedPaymentIntent() {
    const pi = await t.stripe.paymentIntents.create({
      amount: 3000,
      currency: 'eur',
      capture_method: 'manual',
      confirm: true,
      payment_method: 'pm_card_visa',
    });
    assert.equal(pi.status, 'requires_capture');
    return pi;
  }

  it("another merchant's key cannot read, capture, cancel or refund your objects: 404 resource_missing, as for an id that does not exist", async () => {
    const pi = await authorisedPaymentIntent();
    const cs = await t.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price_data: { currency: 'eur', unit_amount: 500, product_data: { name: 'Tea' } }, quantity: 1 }],
    });
    const made = `pi_${'0'.repeat(26)}`;
    const none = await thrown(t.other.paymentIntents.retrieve(made));
    for (const call of [
      t.other.paymentIntents.retrieve(pi.id),
      t.other.paymentIntents.capture(pi.id),
      t.other.paymentIntents.cancel(pi.id),
      t.other.refunds.create({ payment_intent: pi.id, amount: 100 }),
      t.other.checkout.sessions.retrieve(cs.id),
      t.other.checkout.sessions.expire(cs.id),
    ]) {
      const err = await thrown(call);
      assert.equal(err.statusCode, 404);
      assert.equal(err.type, 'StripeInvalidRequestError');
      assert.equal(err.code, 'resource_missing');
      // Nothing in the answer tells a stranger's object from one that does not exist.
      assert.equal(
        err.message.replace(/'[^']*'/, "'X'").replace('checkout.session', 'payment_intent'),
        none.message.replace(/'[^']*'/, "'X'"),
      );
    }
    const still = await t.stripe.paymentIntents.retrieve(pi.id);
    assert.equal(still.status, 'requires_capture');
    assert.equal((await t.stripe.checkout.sessions.retrieve(cs.id)).status, 'open');
    assert.equal(await t.bankStatus(`ps_${pi.id.slice(3)}`), 'approved');
    // And a refund id of yours is just as missing for them.
    await t.stripe.paymentIntents.capture(pi.id);
    const refund = await t.stripe.refunds.create({ payment_intent: pi.id, amount: 100 });
    assert.equal((await thrown(t.other.refunds.retrieve(refund.id))).code, 'resource_missing');
  });

  it('a native key on a Stripe path and a Stripe key on a native path are unknown routes of their dialect', async () => {
    const nativeOnStripe = await fetch(`${t.gw.url}/v1/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.nativeKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'mode=payment',
    });
    assert.equal(nativeOnStripe.status, 404);
    assert.equal(((await nativeOnStripe.json()) as { error: { code: string } }).error.code, 'not_found');
    const stripeOnNative = await fetch(`${t.gw.url}/v1/payment_sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_STRIPE_API_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount[minor]=100&amount[currency]=EUR&merchant_reference=x',
    });
    assert.equal(stripeOnNative.status, 404);
    assert.match(
      ((await stripeOnNative.json()) as { error: { message: string } }).error.message,
      /Unrecognized request URL/,
    );
    const stripeGetNative = await fetch(`${t.gw.url}/v1/payment_sessions/ps_x`, {
      headers: { authorization: `Bearer ${TEST_STRIPE_API_KEY}` },
    });
    assert.equal(stripeGetNative.status, 404);
    assert.equal(((await stripeGetNative.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
    // Their sessions are not each other's objects either: a native session is no PaymentIntent.
    const native = await t.gw.api('/v1/payment_sessions', {
      body: { amount: { minor: '100', currency: 'EUR' }, merchant_reference: 'native-1' },
    });
    const nativeId = ((await native.json()) as { id: string }).id;
    assert.equal((await thrown(t.stripe.paymentIntents.retrieve(`pi_${nativeId.slice(3)}`))).statusCode, 404);
    // No key, or a wrong one, from a Stripe client: Stripe's 401.
    const wrong = new Stripe('sk_test_notakeynotakeynotakey00', {
      host: new URL(t.gw.url).hostname,
      port: Number(new URL(t.gw.url).port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const denied = await thrown(wrong.paymentIntents.list());
    assert.equal(denied.statusCode, 401);
    assert.ok(denied instanceof Stripe.errors.StripeAuthenticationError);
  });

  it('no amount in the URL or the form changes what is captured: a larger capture is refused, the bank captures what was authorised', async () => {
    const pi = await authorisedPaymentIntent();
    const larger = await thrown(t.stripe.paymentIntents.capture(pi.id, { amount_to_capture: 3001 }));
    assert.equal(larger.statusCode, 400);
    assert.equal(larger.param, 'amount_to_capture');
    assert.equal((await t.stripe.paymentIntents.retrieve(pi.id)).status, 'requires_capture');
    const res = await fetch(`${t.gw.url}/v1/payment_intents/${pi.id}/capture?amount_to_capture=999999&amount=999999`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_STRIPE_API_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(res.status, 200);
    const captured = (await res.json()) as { status: string; amount_received: number };
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 3000);
    assert.equal((await t.sessionRow(`ps_${pi.id.slice(3)}`)).captured_minor, '3000');
    assert.equal(await t.bankStatus(`ps_${pi.id.slice(3)}`), 'captured');
  });

  it('another merchant replaying your Idempotency-Key gets its own answer, never yours', async () => {
    const params = { amount: 1234, currency: 'eur', capture_method: 'manual' as const, metadata: { secret: 'mine' } };
    const mine = await t.stripe.paymentIntents.create(params, { idempotencyKey: 'shared-key-1' });
    const theirs = await t.other.paymentIntents.create(params, { idempotencyKey: 'shared-key-1' });
    assert.notEqual(theirs.id, mine.id);
    assert.equal(theirs.lastResponse.headers['idempotent-replayed'], undefined);
    assert.equal((await thrown(t.other.paymentIntents.retrieve(mine.id))).statusCode, 404);
  });

  it("a merchant's webhook endpoint cannot point the gateway at its own network (cloud metadata, private addresses)", async () => {
    for (const url of [
      'https://169.254.169.254/latest/meta-data/iam',
      'https://10.0.0.5/admin',
      'https://[fd00::1]/hook',
      'https://[::ffff:192.168.1.1]/hook',
    ]) {
      await assert.rejects(
        t.other.webhookEndpoints.create({ url, enabled_events: ['*'] }),
        (err: unknown) => {
          assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, url);
          assert.equal(err.param, 'url');
          return true;
        },
        url,
      );
    }
    const created = await t.other.webhookEndpoints.create({ url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] });
    await assert.rejects(
      t.other.webhookEndpoints.update(created.id, { url: 'https://169.254.169.254/' }),
      Stripe.errors.StripeInvalidRequestError,
      'nor moved there later',
    );
    await t.other.webhookEndpoints.del(created.id);
  });
});
