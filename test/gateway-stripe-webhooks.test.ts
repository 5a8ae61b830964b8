// Stripe-format webhook endpoints and deliveries, driven by the official `stripe` SDK against the real
// gateway and bank: an endpoint created through the SDK receives the events of a Checkout Session
// paid on the hosted page, each verified with stripe.webhooks.constructEvent; a failing receiver is
// retried on the native schedule; disabled and deleted endpoints receive nothing; and the attacker's
// view: another merchant, another endpoint's secret, an altered body, a stale timestamp, internal URLs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { webhookUrlProblem } from '../src/gateway/domain/webhook-url.rule.ts';
import { eventually, webhookReceiver } from '../src/gateway/testing.ts';
import { rows } from '../src/platform/db/database.ts';
import { paidCheckout, startStripeGateway, stripeReceiver } from './support/stripe-events-support.ts';

async function stripeError(
  p: Promise<unknown>,
): Promise<{ statusCode?: number; code?: string; param?: string; raw?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as { statusCode?: number; code?: string; param?: string; raw?: unknown };
  }
  throw new Error('expected the SDK call to fail');
}

describe('gateway Stripe webhook endpoints and deliveries', () => {
  let sys: Awaited<ReturnType<typeof startStripeGateway>>;
  let shop: Awaited<ReturnType<typeof stripeReceiver>>;
  let endpoint: Stripe.WebhookEndpoint;
  before(async () => {
    sys = await startStripeGateway();
    shop = await stripeReceiver(sys.stripe);
    endpoint = await sys.stripe.webhookEndpoints.create({ url: shop.url, enabled_events: ['*'] });
    shop.setSecret(endpoint.secret!);
  });
  after(async () => {
    await shop?.close();
    await sys?.stop();
  });

  it('creates an endpoint through the SDK: the secret is answered once, never by retrieve, list or update', async () => {
    assert.match(endpoint.id, /^we_/);
    assert.match(endpoint.secret ?? '', /^whsec_/);
    assert.equal(endpoint.status, 'enabled');
    assert.deepEqual(endpoint.enabled_events, ['*']);
    const got = await sys.stripe.webhookEndpoints.retrieve(endpoint.id);
    assert.equal(got.url, shop.url);
    assert.equal(got.secret, undefined);
    const list = await sys.stripe.webhookEndpoints.list();
    assert.ok(list.data.some((e) => e.id === endpoint.id));
    assert.ok(list.data.every((e) => e.secret === undefined));
    const updated = await sys.stripe.webhookEndpoints.update(endpoint.id, { description: 'the shop' });
    assert.equal(updated.description, 'the shop');
    assert.equal(updated.secret, undefined);
  });

  it('a paid Checkout Session brings checkout.session.completed and payment_intent.amount_capturable_updated, verified; capture brings payment_intent.succeeded', async () => {
    const { cs, pi, sessionId } = await paidCheckout(sys.stripe, sys.gw.url);
    const completed = await eventually(() =>
      shop.eventsAbout(sessionId).find((e) => e.type === 'checkout.session.completed'),
    );
    const capturable = await eventually(() =>
      shop.eventsAbout(sessionId).find((e) => e.type === 'payment_intent.amount_capturable_updated'),
    );
    const session = completed.data.object as Stripe.Checkout.Session;
    assert.equal(session.id, cs);
    assert.equal(session.status, 'complete');
    assert.equal(session.payment_intent, pi);
    const intent = capturable.data.object as Stripe.PaymentIntent;
    assert.equal(intent.id, pi);
    assert.equal(intent.status, 'requires_capture');
    assert.equal(intent.amount_capturable, 1999);
    assert.equal(capturable.object, 'event');
    assert.equal(capturable.livemode, false);
    assert.equal(typeof capturable.created, 'number');
    assert.equal(typeof capturable.api_version, 'string');
    // Our 2xx acknowledged nothing: the PaymentIntent waits for the merchant's capture.
    assert.equal((await sys.stripe.paymentIntents.retrieve(pi)).status, 'requires_capture');
    await sys.stripe.paymentIntents.capture(pi);
    const succeeded = await eventually(() =>
      shop.eventsAbout(sessionId).find((e) => e.type === 'payment_intent.succeeded'),
    );
    assert.equal((succeeded.data.object as Stripe.PaymentIntent).status, 'succeeded');
    assert.equal((succeeded.data.object as Stripe.PaymentIntent).amount_received, 1999);
    assert.deepEqual(shop.refused, [], 'every delivery verified');
  });

  it('makes no native delivery for a Stripe session', async () => {
    const native = await webhookReceiver();
    try {
      await sys.gw.database.db.execute(sql`update merchants set webhook_url = ${native.url}`);
      const { sessionId } = await paidCheckout(sys.stripe, sys.gw.url);
      await eventually(() => shop.eventsAbout(sessionId).find((e) => e.type === 'checkout.session.completed'));
      const native_rows = await rows<{ n: number }>(
        sys.gw.database.db,
        sql`select count(*)::int as n from webhook_deliveries d join events e on e.id = d.event_id where e.session_id = ${sessionId}`,
      );
      assert.equal(native_rows[0]!.n, 0);
      assert.equal(native.received.length, 0);
    } finally {
      await sys.gw.database.db.execute(sql`update merchants set webhook_url = null`);
      await native.close();
    }
  });

  it("retries a receiver answering 500 after the schedule's backoff, then delivers once", async () => {
    let failures = 0;
    shop.setRespond((d, res) => {
      if (d.event.type === 'checkout.session.completed' && failures === 0) {
        failures++;
        res.writeHead(500).end('down');
        return;
      }
      res.writeHead(200).end('{}');
    });
    try {
      const { sessionId } = await paidCheckout(sys.stripe, sys.gw.url);
      const arrivals = await eventually(() => {
        const list = shop.verified.filter(
          (d) => d.event.type === 'checkout.session.completed' && shop.eventsAbout(sessionId).includes(d.event),
        );
        return list.length >= 2 ? list : undefined;
      }, 20_000);
      assert.equal(arrivals[0]!.event.id, arrivals[1]!.event.id, 'the same event again');
      assert.equal(arrivals[0]!.body, arrivals[1]!.body, 'the same bytes again');
      assert.ok(
        arrivals[1]!.at - arrivals[0]!.at >= 3_500,
        `backoff of ~5 s (was ${arrivals[1]!.at - arrivals[0]!.at} ms)`,
      );
      // The second attempt's row is written after the receiver answered: wait until it is.
      const attempts = await eventually(async () => {
        const found = await rows<{ status_code: number; status: string }>(
          sys.gw.database.db,
          sql`select a.status_code, d.status from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id where d.event_id = ${arrivals[0]!.event.id} order by a.attempt`,
        );
        return found.length >= 2 && found[0]!.status === 'delivered' ? found : undefined;
      }, 20_000);
      assert.deepEqual(
        attempts.map((a) => a.status_code),
        [500, 200],
      );
      assert.equal(attempts[1]!.status, 'delivered');
    } finally {
      shop.setRespond((_d, res) => res.writeHead(200).end('{}'));
    }
  });

  it('sends nothing to a disabled or a deleted endpoint, and only the chosen types to a filtered one', async () => {
    const off = await stripeReceiver(sys.stripe);
    const gone = await stripeReceiver(sys.stripe);
    const picky = await stripeReceiver(sys.stripe);
    try {
      const e1 = await sys.stripe.webhookEndpoints.create({ url: off.url, enabled_events: ['*'] });
      const e2 = await sys.stripe.webhookEndpoints.create({ url: gone.url, enabled_events: ['*'] });
      const e3 = await sys.stripe.webhookEndpoints.create({
        url: picky.url,
        enabled_events: ['payment_intent.amount_capturable_updated'],
      });
      off.setSecret(e1.secret!);
      gone.setSecret(e2.secret!);
      picky.setSecret(e3.secret!);
      assert.equal((await sys.stripe.webhookEndpoints.update(e1.id, { disabled: true })).status, 'disabled');
      const deleted = await sys.stripe.webhookEndpoints.del(e2.id);
      assert.deepEqual({ ...deleted }, { id: e2.id, object: 'webhook_endpoint', deleted: true });
      const missing = await stripeError(sys.stripe.webhookEndpoints.retrieve(e2.id));
      assert.equal(missing.statusCode, 404);
      const { sessionId } = await paidCheckout(sys.stripe, sys.gw.url);
      await eventually(() => shop.eventsAbout(sessionId).find((e) => e.type === 'checkout.session.completed'));
      await eventually(() =>
        picky.eventsAbout(sessionId).find((e) => e.type === 'payment_intent.amount_capturable_updated'),
      );
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(off.verified.length + off.refused.length, 0);
      assert.equal(gone.verified.length + gone.refused.length, 0);
      assert.deepEqual(
        picky.verified.map((d) => d.event.type),
        ['payment_intent.amount_capturable_updated'],
      );
      // Enabled again, it receives the next payment's events.
      await sys.stripe.webhookEndpoints.update(e1.id, { disabled: false });
      const next = await paidCheckout(sys.stripe, sys.gw.url);
      await eventually(() => off.eventsAbout(next.sessionId).find((e) => e.type === 'checkout.session.completed'));
    } finally {
      await Promise.all([off.close(), gone.close(), picky.close()]);
    }
  });

  it("shows Stripe deliveries on the dashboard's payment page, and the native resend re-sends one, verified", async () => {
    const { sessionId } = await paidCheckout(sys.stripe, sys.gw.url);
    const completed = await eventually(() =>
      shop.eventsAbout(sessionId).find((e) => e.type === 'checkout.session.completed'),
    );
    // Settled just after the receiver's answer: wait for it.
    const delivery = await eventually(async () => {
      const [row] = await rows<{ id: string }>(
        sys.gw.database.db,
        sql`select id from webhook_deliveries where event_id = ${completed.id} and webhook_endpoint_id = ${endpoint.id} and status = 'delivered'`,
      );
      return row;
    });
    const login = await fetch(`${sys.gw.url}/dashboard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ api_key: sys.nativeKey }),
      redirect: 'manual',
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const page = await (await fetch(`${sys.gw.url}/dashboard/payments/${sessionId}`, { headers: { cookie } })).text();
    assert.ok(page.includes(completed.id), 'the Stripe event is listed');
    assert.ok(page.includes('checkout.session.completed'));
    assert.ok(page.includes(`delivered → ${endpoint.id}`), 'with its delivery to the endpoint');
    assert.ok(page.includes(`/dashboard/deliveries/${delivery.id}/resend`));
    const before = shop.verified.filter((d) => d.event.id === completed.id).length;
    const resend = await sys.gw.api(`/v1/webhook_deliveries/${delivery.id}/resend`, { method: 'POST', body: {} });
    assert.equal(resend.status, 202);
    await eventually(() =>
      shop.verified.filter((d) => d.event.id === completed.id).length > before ? true : undefined,
    );
  });

  it('another merchant can neither read, list, change nor delete our endpoint (404, never the secret)', async () => {
    for (const call of [
      sys.other.webhookEndpoints.retrieve(endpoint.id),
      sys.other.webhookEndpoints.update(endpoint.id, { url: 'https://evil.example/hook' }),
      sys.other.webhookEndpoints.update(endpoint.id, { disabled: true }),
      sys.other.webhookEndpoints.del(endpoint.id),
    ]) {
      const err = await stripeError(call);
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, 'resource_missing');
      assert.ok(!JSON.stringify(err.raw ?? {}).includes('whsec_'));
    }
    const theirs = await sys.other.webhookEndpoints.list();
    assert.ok(theirs.data.every((e) => e.id !== endpoint.id));
    const ours = await sys.stripe.webhookEndpoints.retrieve(endpoint.id);
    assert.equal(ours.status, 'enabled');
    assert.equal(ours.url, shop.url);
  });

  it("a delivery does not verify with another endpoint's secret, with an altered body, or 300 s later", async () => {
    const other = await sys.stripe.webhookEndpoints.create({
      url: 'https://example.com/hook',
      enabled_events: ['refund.created'],
    });
    const d = shop.verified.at(-1)!;
    const check = (body: string, secret: string, receivedAt?: number) =>
      sys.stripe.webhooks.constructEvent(body, d.signature, secret, undefined, undefined, receivedAt);
    assert.equal(check(d.body, endpoint.secret!).id, d.event.id);
    assert.throws(() => check(d.body, other.secret!), /No signatures found matching/);
    assert.throws(
      () => check(d.body.replace('"livemode": false', '"livemode": true'), endpoint.secret!),
      /No signatures found matching/,
    );
    assert.throws(() => check(d.body, endpoint.secret!, Date.now() + 301_000), /Timestamp outside the tolerance zone/);
  });

  it('holds endpoint URLs to the native webhook-URL rule, and requires known event types', async () => {
    for (const url of [
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://internal.corp/hook',
      'ftp://127.0.0.1/hook',
      'javascript:alert(1)',
      'not a url',
    ]) {
      assert.ok(webhookUrlProblem(url, false), `the native rule refuses ${url}`);
      const err = await stripeError(sys.stripe.webhookEndpoints.create({ url, enabled_events: ['*'] }));
      assert.equal(err.statusCode, 400, url);
      assert.equal(err.param, 'url', url);
    }
    const err = await stripeError(sys.stripe.webhookEndpoints.update(endpoint.id, { url: 'http://10.1.2.3/x' }));
    assert.equal(err.statusCode, 400);
    assert.equal((await sys.stripe.webhookEndpoints.retrieve(endpoint.id)).url, shop.url);
    const bad = await stripeError(
      sys.stripe.webhookEndpoints.create({
        url: 'https://example.com/h',
        enabled_events: ['payment_intent.exploded' as 'payment_intent.succeeded'],
      }),
    );
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.param, 'enabled_events[0]');
    const none = await stripeError(
      sys.stripe.webhookEndpoints.create({ url: 'https://example.com/h' } as Stripe.WebhookEndpointCreateParams),
    );
    assert.equal(none.statusCode, 400);
    assert.equal(none.param, 'enabled_events');
  });
});
