// The lookups a real Stripe integration makes, with the official SDK against the real gateway and
// bank: the Checkout Session of a PaymentIntent (list by payment_intent: what a payment_intent.*
// event is traced back with), the Charge, and the expansions on retrieve (latest_charge,
// payment_intent, payment_intent.latest_charge). Another merchant's ids answer as ids that do not exist.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { paidCheckout } from './support/stripe-events-support.ts';
import { startStripeSystem, type StripeSystem } from './support/stripe-gateway.ts';

async function stripeError(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; raw?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as { statusCode?: number; code?: string };
  }
  throw new Error('expected the SDK call to fail');
}

describe('gateway Stripe API: lookups and expansions (official SDK)', () => {
  let t: StripeSystem;
  before(async () => {
    t = await startStripeSystem();
  });
  after(async () => {
    await t?.stop();
  });

  it("lists the Checkout Session of a PaymentIntent; a direct PaymentIntent's, another merchant's or an unknown one's list is empty", async () => {
    const { cs, pi } = await paidCheckout(t.stripe, t.gw.url);
    const found = await t.stripe.checkout.sessions.list({ payment_intent: pi, limit: 1 });
    assert.equal(found.object, 'list');
    assert.equal(found.has_more, false);
    assert.deepEqual(
      found.data.map((x) => x.id),
      [cs],
    );
    assert.equal(found.data[0]!.payment_intent, pi);
    const expanded = await t.stripe.checkout.sessions.list({ payment_intent: pi, expand: ['data.payment_intent'] });
    assert.equal((expanded.data[0]!.payment_intent as Stripe.PaymentIntent).status, 'requires_capture');

    const direct = await t.stripe.paymentIntents.create({ amount: 500, currency: 'eur' });
    assert.deepEqual((await t.stripe.checkout.sessions.list({ payment_intent: direct.id })).data, []);
    assert.deepEqual((await t.other.checkout.sessions.list({ payment_intent: pi })).data, [], 'not to a stranger');
    assert.deepEqual((await t.stripe.checkout.sessions.list({ payment_intent: 'pi_nonsense' })).data, []);
    const unfiltered = await stripeError(t.stripe.checkout.sessions.list());
    assert.equal(unfiltered.statusCode, 400);
  });

  it("retrieves a PaymentIntent's Charge: none before the bank answered, uncaptured when authorised, captured after capture", async () => {
    const open = await t.stripe.paymentIntents.create({ amount: 700, currency: 'eur', capture_method: 'manual' });
    assert.equal(open.latest_charge, null);
    assert.equal((await stripeError(t.stripe.charges.retrieve(`ch_${open.id.slice(3)}`))).statusCode, 404);

    const pi = await t.stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_visa' });
    assert.equal(pi.status, 'requires_capture');
    const chargeId = `ch_${pi.id.slice(3)}`;
    assert.equal(pi.latest_charge, chargeId);
    const held = await t.stripe.charges.retrieve(chargeId);
    assert.equal(held.object, 'charge');
    assert.equal(held.status, 'succeeded');
    assert.equal(held.paid, true);
    assert.equal(held.captured, false);
    assert.equal(held.amount, 700);
    assert.equal(held.amount_captured, 0);
    assert.equal(held.payment_intent, pi.id);
    assert.equal(held.payment_method_details?.card?.last4, '4242');

    await t.stripe.paymentIntents.capture(pi.id);
    const captured = await t.stripe.charges.retrieve(chargeId, { expand: ['payment_intent'] });
    assert.equal(captured.captured, true);
    assert.equal(captured.amount_captured, 700);
    assert.equal((captured.payment_intent as Stripe.PaymentIntent).status, 'succeeded');
    // Another merchant: the same 404 as for an id that does not exist.
    const stranger = await stripeError(t.other.charges.retrieve(chargeId));
    assert.equal(stranger.statusCode, 404);
    assert.equal(stranger.code, 'resource_missing');
  });

  it("retrieves the merchant's balance: an authorisation is pending, its capture available; another merchant's is untouched", async () => {
    const eur = (b: Stripe.Balance, side: 'available' | 'pending') =>
      b[side].find((f) => f.currency === 'eur') ?? { amount: 0, currency: 'eur', source_types: { card: 0 } };
    const before = await t.stripe.balance.retrieve();
    const otherBefore = await t.other.balance.retrieve();
    assert.equal(before.object, 'balance');
    assert.equal(before.livemode, false);
    const pi = await t.stripe.paymentIntents.create({ amount: 1234, currency: 'eur', capture_method: 'manual' });
    await t.stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    const held = await t.stripe.balance.retrieve();
    assert.equal(eur(held, 'pending').amount - eur(before, 'pending').amount, 1234);
    assert.equal(eur(held, 'available').amount, eur(before, 'available').amount);
    await t.stripe.paymentIntents.capture(pi.id);
    const after = await t.stripe.balance.retrieve();
    assert.equal(eur(after, 'pending').amount, eur(before, 'pending').amount, 'the hold became the capture');
    assert.equal(eur(after, 'available').amount - eur(before, 'available').amount, 1234);
    assert.deepEqual(eur(after, 'available').source_types, { card: eur(after, 'available').amount });
    assert.deepEqual(await t.other.balance.retrieve(), otherBefore, "another merchant's balance does not move");
    const unknown = await stripeError(t.stripe.balance.retrieve({ currency: 'eur' } as never));
    assert.equal(unknown.statusCode, 400);
  });

  it("a declined PaymentIntent's Charge is failed, with the decline", async () => {
    const err = await stripeError(
      t.stripe.paymentIntents.create({
        amount: 800,
        currency: 'eur',
        confirm: true,
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      }),
    );
    assert.equal(err.statusCode, 402);
    const piId = ((err.raw as { payment_intent?: { id: string } }).payment_intent ?? { id: '' }).id;
    const charge = await t.stripe.charges.retrieve(`ch_${piId.slice(3)}`);
    assert.equal(charge.status, 'failed');
    assert.equal(charge.paid, false);
    assert.equal(charge.captured, false);
    assert.equal(charge.failure_code, 'card_declined');
  });

  it('expands latest_charge on a PaymentIntent, and payment_intent.latest_charge on a Checkout Session', async () => {
    const { cs, pi } = await paidCheckout(t.stripe, t.gw.url);
    const plain = await t.stripe.paymentIntents.retrieve(pi);
    assert.equal(plain.latest_charge, `ch_${pi.slice(3)}`);
    const withCharge = await t.stripe.paymentIntents.retrieve(pi, { expand: ['latest_charge'] });
    const charge = withCharge.latest_charge as Stripe.Charge;
    assert.equal(charge.id, `ch_${pi.slice(3)}`);
    assert.equal(charge.captured, false);

    const session = await t.stripe.checkout.sessions.retrieve(cs, { expand: ['payment_intent.latest_charge'] });
    const nested = session.payment_intent as Stripe.PaymentIntent;
    assert.equal(nested.id, pi);
    assert.equal((nested.latest_charge as Stripe.Charge).object, 'charge');
    const shallow = await t.stripe.checkout.sessions.retrieve(cs, { expand: ['payment_intent'] });
    assert.equal((shallow.payment_intent as Stripe.PaymentIntent).latest_charge, `ch_${pi.slice(3)}`);
  });
});
