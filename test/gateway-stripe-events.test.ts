// GET /v1/events of the Stripe dialect, driven by the official `stripe` SDK against the real gateway
// and bank: the events of Checkout Sessions paid on the hosted page, newest first, filtered by type
// (exact, wildcard, types[]) and time, paginated with starting_after / ending_before / has_more and
// the SDK's auto-pagination; events lost to fault injection are still listed, which is how a
// merchant catches up; another merchant's events are resource_missing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { eventually } from '../src/gateway/testing.ts';
import { paidCheckout, startStripeGateway, stripeReceiver } from './support/stripe-events-support.ts';

async function stripeError(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; param?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { statusCode?: number; code?: string; param?: string };
  }
  throw new Error('expected the SDK call to fail');
}

const CAPTURABLE = 'payment_intent.amount_capturable_updated';

describe('gateway Stripe events', () => {
  let sys: Awaited<ReturnType<typeof startStripeGateway>>;
  let shop: Awaited<ReturnType<typeof stripeReceiver>>;
  before(async () => {
    sys = await startStripeGateway();
    shop = await stripeReceiver(sys.stripe);
    const endpoint = await sys.stripe.webhookEndpoints.create({ url: shop.url, enabled_events: ['*'] });
    shop.setSecret(endpoint.secret!);
  });
  after(async () => {
    await shop?.close();
    await sys?.stop();
  });

  it("lists a payment's events newest first, each retrievable, in Stripe's list shape", async () => {
    const { pi, sessionId } = await paidCheckout(sys.stripe, sys.gw.url);
    await sys.stripe.paymentIntents.capture(pi);
    await eventually(() => shop.eventsAbout(sessionId).find((e) => e.type === 'payment_intent.succeeded'));
    const page = await sys.stripe.events.list({ limit: 100 });
    assert.equal(page.object, 'list');
    assert.equal(page.url, '/v1/events');
    assert.equal(page.has_more, false);
    const mine = page.data.filter((e) => String((e.data.object as { id: string }).id).endsWith(sessionId.slice(3)));
    const types = mine.map((e) => e.type);
    // Newest first: the capture's events before the authorisation's.
    assert.ok(types.indexOf('payment_intent.succeeded') < types.indexOf(CAPTURABLE), types.join(', '));
    assert.ok(types.indexOf(CAPTURABLE) < types.indexOf('payment_intent.created'), types.join(', '));
    for (let i = 1; i < page.data.length; i++) assert.ok(page.data[i - 1]!.created >= page.data[i]!.created);
    const one = await sys.stripe.events.retrieve(mine[0]!.id);
    assert.equal(one.id, mine[0]!.id);
    assert.equal(one.type, mine[0]!.type);
    assert.deepEqual(one.data.object, mine[0]!.data.object);
    // What was delivered is what is listed.
    const delivered = shop.verified.find((d) => d.event.id === one.id)!;
    assert.deepEqual(delivered.event.data.object, one.data.object);
  });

  it('filters by type, by a wildcard, by types[] and by created', async () => {
    const exact = await sys.stripe.events.list({ type: CAPTURABLE, limit: 100 });
    assert.ok(exact.data.length > 0);
    assert.ok(exact.data.every((e) => e.type === CAPTURABLE));
    const wild = await sys.stripe.events.list({ type: 'payment_intent.*', limit: 100 });
    assert.ok(wild.data.length > exact.data.length);
    assert.ok(wild.data.every((e) => e.type.startsWith('payment_intent.')));
    const several = await sys.stripe.events.list({ types: [CAPTURABLE, 'checkout.session.completed'], limit: 100 });
    assert.deepEqual(new Set(several.data.map((e) => e.type)), new Set([CAPTURABLE, 'checkout.session.completed']));
    const all = await sys.stripe.events.list({ limit: 100 });
    const future = await sys.stripe.events.list({ created: { gt: Math.floor(Date.now() / 1000) + 60 } });
    assert.deepEqual(future.data, []);
    const since = await sys.stripe.events.list({ created: { gte: all.data.at(-1)!.created }, limit: 100 });
    assert.equal(since.data.length, all.data.length);
    // created is whole seconds: an event of second C is in lte C and in C itself, not in gt C nor lt C,
    // at whatever millisecond of C it was written.
    const newest = all.data[0]!;
    const ids = async (created: Stripe.RangeQueryParam | number) =>
      (await sys.stripe.events.list({ created, limit: 100 })).data.map((e) => e.id);
    assert.ok((await ids({ lte: newest.created })).includes(newest.id), 'lte its own created');
    assert.ok((await ids(newest.created)).includes(newest.id), 'its own created');
    assert.ok((await ids({ gte: newest.created, lte: newest.created })).includes(newest.id), 'gte and lte its created');
    assert.ok(!(await ids({ gt: newest.created })).includes(newest.id), 'gt its own created');
    assert.ok(!(await ids({ lt: newest.created })).includes(newest.id), 'lt its own created');
    const bad = await stripeError(sys.stripe.events.list({ limit: 101 }));
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.param, 'limit');
  });

  it('an event dropped by fault injection is still listed, and the SDK pages through it all', async () => {
    const faults = (body: unknown) => sys.gw.api('/v1/admin/fault_injection', { method: 'PUT', body });
    assert.equal(
      (await faults({ enabled: true, seed: 'drop', config: { webhooks: { drop: 1, drop_permanently: true } } })).status,
      200,
    );
    const paid: string[] = [];
    try {
      for (let i = 0; i < 3; i++) paid.push((await paidCheckout(sys.stripe, sys.gw.url, { amount: 500 + i })).pi);
      // Each authorisation's event exists though none arrives.
      const listed = await eventually(async () => {
        const page = await sys.stripe.events.list({ types: [CAPTURABLE], limit: 100 });
        const ids = page.data.map((e) => (e.data.object as Stripe.PaymentIntent).id);
        return paid.every((pi) => ids.includes(pi)) ? page.data : undefined;
      });
      await new Promise((r) => setTimeout(r, 1000));
      for (const pi of paid)
        assert.ok(!shop.verified.some((d) => (d.event.data.object as { id: string }).id === pi), `${pi} was dropped`);
      // Pages of two, newest first, by starting_after, until has_more is false.
      const walked: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await sys.stripe.events.list({
          types: [CAPTURABLE],
          limit: 2,
          ...(cursor ? { starting_after: cursor } : {}),
        });
        assert.ok(page.data.length <= 2);
        walked.push(...page.data.map((e) => e.id));
        if (!page.has_more) break;
        cursor = page.data.at(-1)!.id;
      }
      assert.deepEqual(
        walked,
        listed.map((e) => e.id),
      );
      // The page just newer than an event (ending_before), still newest first.
      const before = await sys.stripe.events.list({ types: [CAPTURABLE], limit: 2, ending_before: walked[3]! });
      assert.deepEqual(
        before.data.map((e) => e.id),
        walked.slice(1, 3),
      );
      assert.equal(before.has_more, true);
      // The SDK's auto-pagination sees the same events.
      const auto = await sys.stripe.events.list({ types: [CAPTURABLE], limit: 2 }).autoPagingToArray({ limit: 1000 });
      assert.deepEqual(
        auto.map((e) => e.id),
        walked,
      );
    } finally {
      await faults({ enabled: false, seed: 'off', config: {} });
    }
  });

  it('another merchant cannot read or list our events (resource_missing), nor page from one', async () => {
    const ours = await sys.stripe.events.list({ limit: 1 });
    const id = ours.data[0]!.id;
    const err = await stripeError(sys.other.events.retrieve(id));
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'resource_missing');
    const theirs = await sys.other.events.list({ limit: 100 });
    assert.ok(theirs.data.every((e) => e.id !== id));
    const paging = await stripeError(sys.other.events.list({ starting_after: id }));
    assert.equal(paging.statusCode, 404);
    assert.equal(paging.param, 'starting_after');
  });
});
