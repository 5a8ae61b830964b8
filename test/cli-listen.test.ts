// `countersign listen --forward-to`: the merchant's events arrive live at a local receiver, signed
// with the secret the command printed (checked with the `standardwebhooks` package, as a merchant's
// app would; with a Stripe-dialect key, Stripe event objects checked by the official SDK's
// `stripe.webhooks.constructEvent`); a gateway restart mid-stream loses and repeats nothing; the
// stream shows a merchant its own events only.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { eventually } from '../src/gateway/testing.ts';
import { countersign, spawnCountersign, waitForLine } from './support/cli.ts';
import { startPartyProcesses, type PartyProcesses } from './support/harness/processes.ts';
import { stripeClient } from './support/stripe-gateway.ts';

interface Received {
  readonly body: string;
  readonly headers: Record<string, string>;
}

async function receiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += String(d)));
    req.on('end', () => {
      received.push({ body, headers: req.headers as Record<string, string> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`, received };
}

/** What an endless stream sends within `ms` (then it is closed). */
async function readFor(res: Response, ms: number): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const timer = setTimeout(() => void reader.cancel(), ms);
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  clearTimeout(timer);
  return text;
}

describe('countersign listen', () => {
  let system: PartyProcesses;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let listener: ChildProcess;
  let secret: string;
  let output = '';
  const api = (path: string, body?: unknown, key = system.apiKey) =>
    fetch(`${system.urls.gateway}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  /** A payment the shop does not know: authorised, refused by the shop, voided (two events). */
  async function voidedPayment(): Promise<string> {
    const res = await api('/v1/payment_sessions', {
      amount: { minor: '1234', currency: 'EUR' },
      merchant_reference: `listen_${randomBytes(4).toString('hex')}`,
    });
    assert.equal(res.status, 201);
    const { id } = (await res.json()) as { id: string };
    const pay = await fetch(`${system.urls.gateway}/pay/${id}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123', name: 'A Payer' }),
    });
    assert.ok(pay.status < 300, `card accepted (${pay.status})`);
    return id;
  }
  const forwardedOf = (session: string) =>
    hook.received.filter((r) => (JSON.parse(r.body) as { data: { session_id: string } }).data.session_id === session);

  before(async () => {
    system = await startPartyProcesses();
    hook = await receiver();
    listener = spawnCountersign(['listen', '--forward-to', hook.url], {
      COUNTERSIGN_GATEWAY_URL: system.urls.gateway,
      COUNTERSIGN_API_KEY: system.apiKey,
    });
    listener.stdout!.on('data', (d) => (output += String(d)));
    listener.stderr!.on('data', (d) => (output += String(d)));
    const ready = await waitForLine(listener, /Ready!.*signing secret is (whsec_\S+)/);
    secret = /signing secret is (whsec_\S+)/.exec(ready)![1]!;
  });
  after(async () => {
    listener?.kill('SIGINT');
    hook?.server.close();
    await system?.stop();
  });

  it('forwards each event live, signed with the printed secret, and shows its status and latency', async () => {
    const session = await voidedPayment();
    const got = await eventually(
      async () => (forwardedOf(session).length >= 2 ? forwardedOf(session) : undefined),
      20_000,
      'two events forwarded',
    );
    const wh = new Webhook(secret);
    for (const r of got) {
      const event = wh.verify(r.body, r.headers) as { id: string; type: string };
      assert.equal(r.headers['webhook-id'], event.id);
      assert.ok(!('cursor' in event), 'the body is the webhook body, not the feed entry');
    }
    assert.deepEqual(
      got.map((r) => (JSON.parse(r.body) as { type: string }).type),
      ['payment.authorized', 'payment.voided'],
    );
    assert.throws(() =>
      new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(got[0]!.body, got[0]!.headers),
    );
    await eventually(
      async () => (/--> payment\.voided \[evt_\S+\] {2}<-- \[204\] POST .* \(\d+ ms\)/.test(output) ? true : undefined),
      5000,
      'status line',
    );
    // A copy for development: the shop's refusal, not the receiver's 204, decided the payment.
    assert.equal(
      ((await (await api(`/v1/payment_sessions/${session}`)).json()) as { status: string }).status,
      'voided',
    );
  });

  it('survives a gateway restart: reconnects, resumes from its cursor, nothing lost or repeated', async () => {
    await system.terminate('gateway');
    await eventually(
      async () => (/stream lost; reconnecting/.test(output) ? true : undefined),
      15_000,
      'the listener noticed',
    );
    await system.start('gateway');
    // Made before the listener is back (its back-off is up to 5 s): replayed from the cursor.
    const session = await voidedPayment();
    await eventually(
      async () => (forwardedOf(session).length >= 2 ? true : undefined),
      30_000,
      'events after the restart',
    );
    await new Promise((r) => setTimeout(r, 1000));
    const ids = hook.received.map((r) => (JSON.parse(r.body) as { id: string }).id);
    assert.equal(new Set(ids).size, ids.length, 'no event forwarded twice');
    const feed = (await (await api('/v1/events?after=0&limit=100')).json()) as { data: { id: string }[] };
    assert.deepEqual(
      ids,
      feed.data.map((e) => e.id),
      'every event of the feed, in order',
    );
    assert.match(output, /reconnected; resuming after cursor \d+/);
  });

  it("shows another merchant none of this merchant's events (stream and event log)", async () => {
    const otherKey = `sk_test_${randomBytes(24).toString('base64url')}`;
    await system.query('gateway', `insert into merchants (id, name, created_at) values ('mch_other', 'Other', now())`);
    await system.query(
      'gateway',
      `insert into api_keys (id, merchant_id, hash, prefix, created_at) values ('key_other', 'mch_other', $1, 'sk_test_', now())`,
      [createHash('sha256').update(otherKey).digest('hex')],
    );
    const stream = await fetch(`${system.urls.gateway}/v1/events/stream`, {
      headers: { authorization: `Bearer ${otherKey}`, 'last-event-id': '0' },
    });
    assert.equal(stream.status, 200);
    const text = await readFor(stream, 1500);
    assert.match(text, /event: stream.started/, 'the stream was read');
    assert.doesNotMatch(text, /evt_/, 'no event of the demo merchant from cursor 0');
    const someEvent = (JSON.parse(hook.received[0]!.body) as { id: string }).id;
    const show = await countersign(['events', 'show', someEvent], {
      COUNTERSIGN_GATEWAY_URL: system.urls.gateway,
      COUNTERSIGN_API_KEY: otherKey,
    });
    assert.equal(show.code, 5, "another merchant's event is unknown to this key");
    const anonymous = await fetch(`${system.urls.gateway}/v1/events/stream`);
    assert.equal(anonymous.status, 401);
    const refused = await countersign(['listen', '--forward-to', hook.url], {
      COUNTERSIGN_GATEWAY_URL: system.urls.gateway,
      COUNTERSIGN_API_KEY: 'sk_test_notakeyofthisgateway000',
    });
    assert.equal(refused.code, 4);
    assert.doesNotMatch(refused.stdout + refused.stderr, /whsec_/, 'no secret printed when it cannot listen');
  });

  it('with a Stripe-dialect key: forwards Stripe event objects signed with Stripe-Signature, verified by constructEvent', async () => {
    const stripeHook = await receiver();
    const stripeListener = spawnCountersign(['listen', '--forward-to', stripeHook.url, '--json'], {
      COUNTERSIGN_GATEWAY_URL: system.urls.gateway,
      COUNTERSIGN_API_KEY: system.stripeApiKey,
    });
    try {
      const seen = await waitForLine(stripeListener, /"ready":true.*\n/);
      const ready = JSON.parse(seen.split('\n').find((l) => l.includes('"ready":true'))!) as {
        format: string;
        secret: string;
      };
      assert.equal(ready.format, 'stripe');
      const sdk = stripeClient(system.urls.gateway, system.stripeApiKey);
      const intent = await sdk.paymentIntents.create({
        amount: 2150,
        currency: 'eur',
        capture_method: 'manual',
        payment_method: 'pm_card_visa',
        confirm: true,
      });
      assert.equal(intent.status, 'requires_capture');
      await sdk.paymentIntents.cancel(intent.id);
      const ofIntent = () =>
        stripeHook.received.filter((r) => {
          const object = (JSON.parse(r.body) as { data?: { object?: { id?: string } } }).data?.object;
          return object?.id === intent.id;
        });
      const got = await eventually(
        async () => (ofIntent().some((r) => r.body.includes('payment_intent.canceled')) ? ofIntent() : undefined),
        20_000,
        'the canceled event forwarded',
      );
      const webhooks = new Stripe('sk_test_unused_for_verification').webhooks;
      const events = got.map((r) => webhooks.constructEvent(r.body, r.headers['stripe-signature']!, ready.secret));
      for (const e of events) {
        assert.equal(e.object, 'event');
        assert.ok(!('cursor' in e), 'the body is the webhook body, not the feed entry');
      }
      const types = events.map((e) => e.type);
      assert.ok(types.includes('payment_intent.amount_capturable_updated'), types.join(', '));
      assert.equal(types.at(-1), 'payment_intent.canceled');
      // The same events, in the same order, as Stripe's own feed lists them (newest first there).
      const feed = await sdk.events.list({ limit: 100 });
      const feedIds = feed.data
        .filter((e) => (e.data.object as { id?: string }).id === intent.id)
        .map((e) => e.id)
        .reverse();
      assert.deepEqual(
        events.map((e) => e.id),
        feedIds,
      );
      assert.throws(() =>
        webhooks.constructEvent(got[0]!.body, got[0]!.headers['stripe-signature']!, 'whsec_notthesecretprintedatstart'),
      );
      // Another merchant's Stripe-dialect key streams none of them, even from cursor 0.
      const otherKey = `sk_test_${randomBytes(24).toString('base64url')}`;
      await system.query(
        'gateway',
        `insert into merchants (id, name, created_at) values ('mch_other_s', 'Other', now())`,
      );
      await system.query(
        'gateway',
        `insert into api_keys (id, merchant_id, hash, prefix, api, created_at) values ('key_other_s', 'mch_other_s', $1, 'sk_test_', 'stripe', now())`,
        [createHash('sha256').update(otherKey).digest('hex')],
      );
      const other = await fetch(`${system.urls.gateway}/v1/events/stream`, {
        headers: { authorization: `Bearer ${otherKey}`, 'last-event-id': '0' },
      });
      assert.equal(other.status, 200);
      const text = await readFor(other, 1500);
      assert.match(text, /"format":"stripe"/);
      assert.doesNotMatch(text, /evt_/, "no event of the demo merchant's");
      const bad = await fetch(`${system.urls.gateway}/v1/events/stream?after=1e3`, {
        headers: { authorization: `Bearer ${otherKey}` },
      });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'after');
    } finally {
      stripeListener.kill('SIGINT');
      stripeHook.server.close();
    }
  });
});
