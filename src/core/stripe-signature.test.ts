// Our Stripe-Signature against the official SDK: what we sign, `stripe.webhooks.constructEvent`
// accepts, and our signature equals the SDK's own test header for the same time and secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Stripe from 'stripe';
import { newStripeEndpointSecret, stripeSignatureHeader } from './stripe-signature.ts';

const stripe = new Stripe('sk_test_unused');
const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded', data: { object: {} } });

describe('Stripe webhook signature', () => {
  it('is accepted by the official constructEvent and equals its generateTestHeaderString', () => {
    const secret = newStripeEndpointSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9]{32}$/);
    const at = new Date();
    const header = stripeSignatureHeader(secret, at, body);
    const event = stripe.webhooks.constructEvent(body, header, secret);
    assert.equal(event.id, 'evt_1');
    const theirs = stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret,
      timestamp: Math.floor(at.getTime() / 1000),
    });
    assert.equal(header, theirs);
  });

  it('does not verify with another secret, an altered body, or a timestamp older than 300 s', () => {
    const secret = newStripeEndpointSecret();
    const header = stripeSignatureHeader(secret, new Date(), body);
    assert.throws(() => stripe.webhooks.constructEvent(body, header, newStripeEndpointSecret()), /signature/i);
    assert.throws(() => stripe.webhooks.constructEvent(body.replace('evt_1', 'evt_2'), header, secret), /signature/i);
    const old = stripeSignatureHeader(secret, new Date(Date.now() - 301_000), body);
    assert.throws(() => stripe.webhooks.constructEvent(body, old, secret), /tolerance/i);
  });
});
