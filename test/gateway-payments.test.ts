// The payment flow end to end inside the gateway, on both engines, with a fake issuer and a real
// local webhook receiver: authorisation -> payment.authorized -> the shop's answer decides capture
// or void (refusal, silence and slowness all void and never capture); signatures checked by the
// independent `standardwebhooks` verifier on the bytes actually received, with two active secrets;
// bank callbacks verified and deduplicated; 410 disables the endpoint; and no card number in the
// database, the events or the logs.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, signWebhook } from '../src/core/webhook-signature.ts';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { DEMO_MERCHANT_ID, rotateSecret } from '../src/gateway/storage/merchants.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { systemClock } from '../src/platform/clock.ts';

const PAN = '4242424242424242';
const card = (number = PAN) => ({ number, exp_month: 12, exp_year: 2034, cvc: '987', name: 'A Payer' });

for (const engine of testEngines()) {
  describe(`gateway payments and webhooks (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;
    let n = 0;

    before(async () => {
      shop = await webhookReceiver();
      gw = await startTestGateway(engine, { webhookUrl: shop.url, ackWindowSeconds: 900, webhookTimeoutMs: 4000 });
    });
    after(async () => {
      await gw?.stop();
      await shop?.close();
    });
    beforeEach(async () => {
      shop.setRespond((_r, res) => void res.writeHead(200).end('{"ok":true}'));
      await gw.database.db.execute(sql`update merchants set ack_window_seconds = 900, webhook_enabled = true`);
    });

    async function newSession() {
      const res = await gw.api('/v1/payment_sessions', {
        body: { amount: { minor: '2500', currency: 'EUR' }, merchant_reference: `inv_${engine}_${++n}`, description: 'Test order', return_url: 'http://shop.test/r' },
      });
      assert.equal(res.status, 201);
      return ((await res.json()) as { id: string }).id;
    }
    const pay = (id: string, body: unknown = card()) =>
      fetch(`${gw.url}/pay/${id}/authorize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const session = async (id: string) => (await (await gw.api(`/v1/payment_sessions/${id}`)).json()) as Record<string, unknown> & { status: string };
    const settled = (id: string, ms = 15_000) =>
      eventually(async () => {
        const s = await session(id);
        return ['captured', 'voided', 'declined'].includes(s.status) ? s : undefined;
      }, ms, `session ${id} to settle`);

    it('captures after the shop answers 2xx to payment.authorized, then sends payment.captured', async () => {
      const id = await newSession();
      const res = await pay(id);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { status: string }).status, 'authorized');
      const s = await settled(id);
      assert.equal(s.status, 'captured');
      assert.equal(s.acknowledged, true);
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      assert.equal(gw.issuer.count(`capture:${auth.id}`), 1);
      assert.equal(gw.issuer.count(`void:${auth.id}`), 0);
      const types = await eventually(() => {
        const t = shop.eventsFor(id).map((e) => e.type);
        return t.includes('payment.captured') ? t : undefined;
      });
      assert.deepEqual(types, ['payment.authorized', 'payment.captured']);
      const seqs = shop.eventsFor(id).map((e) => e.data.sequence);
      assert.ok(seqs[1]! > seqs[0]!, 'sequence grows');
    });

    it('every delivery verifies with the standardwebhooks package, with each of two active secrets, over the bytes received', async () => {
      const second = newWebhookSecret();
      await rotateSecret(gw.database.db, DEMO_MERCHANT_ID, systemClock, second);
      const from = shop.received.length;
      const id = await newSession();
      await pay(id);
      await settled(id);
      await eventually(() => (shop.received.slice(from).length >= 2 ? true : undefined));
      for (const r of shop.received.slice(from)) {
        const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
        assert.equal(headers['webhook-signature'].split(' ').length, 2);
        for (const secret of [gw.webhookSecret, second]) {
          const verified = new Webhook(secret).verify(r.body.toString('utf8'), headers) as { id: string; data: { session_id: string } };
          assert.equal(verified.data.session_id, id);
          assert.equal(verified.id, headers['webhook-id']);
        }
        // One byte changed and the package refuses it: the check is real.
        const tampered = r.body.toString('utf8').replace('2500', '2501');
        assert.throws(() => new Webhook(gw.webhookSecret).verify(tampered, headers));
      }
      // Back to one active secret for the other tests.
      await gw.database.db.execute(sql`update signing_secrets set retired_at = now() where secret = ${second}`);
    });

    it('the payload carries session id, merchant reference, amount, currency, status and sequence', async () => {
      const id = await newSession();
      await pay(id);
      const e = await eventually(() => shop.eventsFor(id)[0]);
      const raw = JSON.parse(shop.received.find((r) => JSON.parse(r.body.toString()).id === e.id)!.body.toString());
      assert.match(raw.id, /^evt_/);
      assert.equal(raw.type, 'payment.authorized');
      assert.ok(Date.parse(raw.created_at) > 0);
      assert.equal(raw.data.session_id, id);
      assert.match(raw.data.merchant_reference, /^inv_/);
      assert.deepEqual(raw.data.amount, { minor: '2500', currency: 'EUR' });
      assert.equal(raw.data.status, 'authorized');
      assert.equal(typeof raw.data.sequence, 'number');
      await settled(id);
    });

    it('refusal: a 409 answer voids at once with the reason from the body, and nothing is captured', async () => {
      shop.setRespond((_r, res) => void res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":{"code":"invoice.expired","message":"The invoice has expired."}}'));
      const id = await newSession();
      await pay(id);
      const s = await settled(id);
      assert.equal(s.status, 'voided');
      assert.equal(s.void_reason, 'invoice.expired');
      assert.equal(s.acknowledgement, 'refused');
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      assert.equal(gw.issuer.count(`capture:${auth.id}`), 0);
      assert.equal(gw.issuer.count(`void:${auth.id}`), 1);
      const voided = await eventually(() => shop.eventsFor(id).find((e) => e.type === 'payment.voided'));
      assert.equal(voided.data.reason, 'invoice.expired');
      // Only one authorized delivery: a refusal is an answer, not a failure to retry.
      assert.equal(shop.eventsFor(id).filter((e) => e.type === 'payment.authorized').length, 1);
    });

    it('refusal with 422 voids too', async () => {
      shop.setRespond((_r, res) => void res.writeHead(422).end('{"error":{"code":"invoice.amount_mismatch","message":"x"}}'));
      const id = await newSession();
      await pay(id);
      const s = await settled(id);
      assert.equal(s.status, 'voided');
      assert.equal(s.void_reason, 'invoice.amount_mismatch');
    });

    it('silence: no answer within the acknowledgement window voids, and nothing is captured', async () => {
      await gw.database.db.execute(sql`update merchants set ack_window_seconds = 2`);
      shop.setRespond(() => undefined); // never answers; the gateway times the request out
      const id = await newSession();
      await pay(id);
      const s = await settled(id);
      assert.equal(s.status, 'voided');
      assert.equal(s.void_reason, 'acknowledgement_timeout');
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      assert.equal(gw.issuer.count(`capture:${auth.id}`), 0);
      assert.equal(gw.issuer.count(`void:${auth.id}`), 1);
    });

    it('errors are retried but never count as acknowledgement: 500s until the window closes void the payment', async () => {
      await gw.database.db.execute(sql`update merchants set ack_window_seconds = 2`);
      shop.setRespond((_r, res) => void res.writeHead(500).end('oops'));
      const id = await newSession();
      await pay(id);
      const s = await settled(id);
      assert.equal(s.status, 'voided');
      const attempts = await rows<{ status_code: number; latency_ms: number; response_excerpt: string }>(
        gw.database.db,
        sql`select a.status_code, a.latency_ms, a.response_excerpt from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id join events e on e.id = d.event_id where e.session_id = ${id} and e.type = 'payment.authorized'`,
      );
      assert.ok(attempts.length >= 1);
      assert.equal(attempts[0]!.status_code, 500);
      assert.equal(attempts[0]!.response_excerpt, 'oops');
      assert.ok(attempts[0]!.latency_ms >= 0);
    });

    it('slowness: a 2xx that arrives after the window does not capture; the payment is voided', async () => {
      await gw.database.db.execute(sql`update merchants set ack_window_seconds = 1`);
      shop.setRespond(async (r, res) => {
        const type = JSON.parse(r.body.toString()).type;
        if (type === 'payment.authorized') await new Promise((x) => setTimeout(x, 2500));
        res.writeHead(200).end('{}');
      });
      const id = await newSession();
      await pay(id);
      const s = await settled(id);
      assert.equal(s.status, 'voided');
      // Wait past the slow answer: it must not turn the void into a capture.
      await new Promise((x) => setTimeout(x, 2000));
      const again = await session(id);
      assert.equal(again.status, 'voided');
      assert.equal(again.acknowledged, false);
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      assert.equal(gw.issuer.count(`capture:${auth.id}`), 0);
    });

    it('a declined card ends declined with its reason, payment.declined is sent, and nothing is captured', async () => {
      const id = await newSession();
      const res = await pay(id, card('4000000000009995'));
      const body = (await res.json()) as { status: string; decline_reason: string };
      assert.equal(body.status, 'declined');
      assert.equal(body.decline_reason, 'insufficient_funds');
      const e = await eventually(() => shop.eventsFor(id).find((x) => x.type === 'payment.declined'));
      assert.equal(e.data.reason, 'insufficient_funds');
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      await new Promise((x) => setTimeout(x, 300));
      assert.equal(gw.issuer.count(`capture:${auth.id}`), 0);
      assert.equal((await session(id)).status, 'declined');
    });

    it('the gateway_error card fails without calling the bank and the session can be paid again', async () => {
      const id = await newSession();
      const before = gw.issuer.count('authorize');
      const res = await pay(id, card('4000000000000119'));
      const body = (await res.json()) as { status: string; last_error: string };
      assert.equal(body.status, 'created');
      assert.equal(body.last_error, 'gateway_error');
      assert.equal(gw.issuer.count('authorize'), before);
      const retry = await pay(id);
      assert.equal(((await retry.json()) as { status: string }).status, 'authorized');
      await settled(id);
    });

    it('concurrent submits of one session make exactly one authorisation', async () => {
      const id = await newSession();
      gw.issuer.authorizeDelayMs = 200;
      try {
        const answers = await Promise.all(Array.from({ length: 6 }, () => pay(id)));
        const statuses = answers.map((a) => a.status).sort();
        assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409]);
      } finally {
        gw.issuer.authorizeDelayMs = 0;
      }
      assert.equal(gw.issuer.count(`authorize:${id}`), 1);
      await settled(id);
    });

    it('a pending authorisation waits for the bank; a signed callback approves it once, a replay changes nothing, a forged one is refused', async () => {
      const id = await newSession();
      const res = await pay(id, card('4000002500003155'));
      assert.equal(((await res.json()) as { status: string }).status, 'requires_approval');
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      gw.issuer.decide(auth.id, 'approved');
      const body = JSON.stringify({ type: 'authorization.approved', authorization_id: auth.id, gateway_ref: id });
      const headers = signWebhook({ id: 'msg_cb_' + id, timestamp: new Date(), body, secrets: [gw.bankCallbackSecret] });
      const forged = await fetch(`${gw.url}/bank/callbacks`, { method: 'POST', headers: { ...headers, 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') }, body });
      assert.equal(forged.status, 401);
      assert.equal((await session(id)).status, 'requires_approval');
      const ok = await fetch(`${gw.url}/bank/callbacks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      assert.equal(ok.status, 200);
      const replay = await fetch(`${gw.url}/bank/callbacks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      assert.equal(replay.status, 200);
      assert.equal(((await replay.json()) as { duplicate: boolean }).duplicate, true);
      const s = await settled(id);
      assert.equal(s.status, 'captured');
      const stale = signWebhook({ id: 'msg_old', timestamp: new Date(Date.now() - 3600_000), body, secrets: [gw.bankCallbackSecret] });
      assert.equal((await fetch(`${gw.url}/bank/callbacks`, { method: "POST", headers: { ...stale }, body })).status, 401);
      assert.equal(shop.eventsFor(id).filter((e) => e.type === 'payment.authorized').length, 1);
    });

    it('a lost callback is made up for by polling the bank', async () => {
      const id = await newSession();
      await pay(id, card('4000000000000077'));
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      gw.issuer.decide(auth.id, 'declined', 'approval_expired');
      // Make the session look pending for long enough to be polled.
      await gw.database.db.execute(sql`update payment_sessions set updated_at = now() - interval '1 minute' where id = ${id}`);
      const s = await settled(id);
      assert.equal(s.status, 'declined');
      assert.equal(s.decline_reason, 'approval_expired');
    });

    it('a 410 answer disables the webhook endpoint', async () => {
      shop.setRespond((_r, res) => void res.writeHead(410).end());
      const id = await newSession();
      await pay(id);
      await eventually(async () => {
        const r = await rows<{ webhook_enabled: boolean }>(gw.database.db, sql`select webhook_enabled from merchants where id = ${DEMO_MERCHANT_ID}`);
        return r[0]!.webhook_enabled === false ? true : undefined;
      });
      // Nothing acknowledged it: the window closes it as a void (made short here).
      await gw.database.db.execute(sql`update payment_sessions set ack_deadline = now() where id = ${id}`);
      assert.equal((await settled(id)).status, 'voided');
    });

    it('no card number or CVC in any table, the event feed or the logs; only last 4, brand and fingerprint', async () => {
      const tables = await rows<{ table_name: string }>(gw.database.db, sql`select table_name from information_schema.tables where table_schema = 'public'`);
      let dump = '';
      for (const { table_name } of tables) {
        const all = await rows<{ t: string }>(gw.database.db, sql.raw(`select coalesce(string_agg(x::text, E'\\n'), '') as t from "${table_name}" x`));
        dump += all[0]!.t;
      }
      assert.ok(dump.includes('4242'), 'the dump is real (last 4 digits are there)');
      for (const number of [PAN, '4000002500003155', '4000000000009995', '4000000000000119']) {
        assert.ok(!dump.includes(number), `${number} found in the database`);
        assert.ok(!gw.logs.lines.join('').includes(number), `${number} found in the logs`);
      }
      const columns = await rows<{ column_name: string }>(gw.database.db, sql`select column_name from information_schema.columns where table_schema = 'public'`);
      const names = columns.map((c) => c.column_name);
      assert.ok(names.includes('card_last4'));
      for (const name of names) assert.ok(!/cvc|cvv|pan|card_number|exp_/.test(name), `column ${name} could hold card data`);
      const feed = await (await gw.api('/v1/events?limit=100')).text();
      assert.ok(!feed.includes(PAN));
      assert.ok(gw.logs.lines.length > 0);
    });
  });
}
