// Payments inside the gateway on both engines, with a fake issuer and a real local webhook receiver:
// signatures checked by the independent `standardwebhooks` verifier on the bytes actually received,
// with two active secrets; the payload; declines, the gateway_error card, concurrent submits; bank
// callbacks verified and deduplicated, and polling when one is lost; and no card number in the
// database, the events or the logs (run last, after every kind of card has been used).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { signRequest } from '../src/core/request-signature.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { DEMO_MERCHANT_ID, rotateSecret } from '../src/gateway/storage/merchants.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { card, PAN, sessionHelpers } from './support/gateway-sessions.ts';
import { systemClock } from '../src/platform/clock.ts';

for (const engine of testEngines()) {
  describe(`gateway payments and webhooks (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;

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

    const { newSession, pay, session, settled } = sessionHelpers(() => gw, engine);

    /** The bank's callback that approves an authorisation, and its signed headers. */
    const approvedCallback = (sessionId: string, authorizationId: string) =>
      JSON.stringify({
        callback_id: `bcb_${sessionId}`,
        type: 'authorization.approved',
        authorization_id: authorizationId,
        gateway_ref: sessionId,
      });
    const signedCallback = (body: string, requestId: string, timestamp = new Date()) => ({
      'content-type': 'application/json',
      ...signRequest({
        method: 'POST',
        target: '/bank/callbacks',
        id: requestId,
        timestamp,
        body,
        secrets: [gw.bankCallbackSecret],
      }),
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
        const headers = {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        };
        assert.equal(headers['webhook-signature'].split(' ').length, 2);
        for (const secret of [gw.webhookSecret, second]) {
          const verified = new Webhook(secret).verify(r.body.toString('utf8'), headers) as {
            id: string;
            data: { session_id: string };
          };
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

    it('a pending authorisation waits for the bank; a signed callback approves it once, a retry (new request id) changes nothing, a replay or a forged one is refused', async () => {
      const id = await newSession();
      const res = await pay(id, card('4000002500003155'));
      assert.equal(((await res.json()) as { status: string }).status, 'requires_approval');
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      gw.issuer.decide(auth.id, 'approved');
      const body = approvedCallback(id, auth.id);
      const signed = (requestId: string, timestamp = new Date()) => signedCallback(body, requestId, timestamp);
      const headers = signed(`sreq_cb_${id}`);
      const forged = await fetch(`${gw.url}/bank/callbacks`, {
        method: 'POST',
        headers: { ...signed('sreq_forged'), 'signed-request-signature': 'r1,' + Buffer.alloc(32).toString('base64') },
        body,
      });
      assert.equal(forged.status, 401);
      assert.equal((await session(id)).status, 'requires_approval');
      const ok = await fetch(`${gw.url}/bank/callbacks`, { method: 'POST', headers, body });
      assert.equal(ok.status, 200);
      const retry = await fetch(`${gw.url}/bank/callbacks`, {
        method: 'POST',
        headers: signed(`sreq_cb2_${id}`),
        body,
      });
      assert.equal(retry.status, 200);
      assert.equal(((await retry.json()) as { duplicate: boolean }).duplicate, true);
      const replay = await fetch(`${gw.url}/bank/callbacks`, { method: 'POST', headers, body });
      assert.equal(replay.status, 409);
      assert.equal(((await replay.json()) as { error: { code: string } }).error.code, 'request.replayed');
      const s = await settled(id);
      assert.equal(s.status, 'captured');
      const stale = signed('sreq_old', new Date(Date.now() - 3600_000));
      assert.equal((await fetch(`${gw.url}/bank/callbacks`, { method: 'POST', headers: stale, body })).status, 401);
      assert.equal(shop.eventsFor(id).filter((e) => e.type === 'payment.authorized').length, 1);
    });

    it("a bank callback that lands while the card submit waits for the bank's answer: the approval is applied once, and the payer sees it", async () => {
      const id = await newSession();
      const authorize = gw.issuer.authorize;
      // The bank approves, and its callback reaches the gateway before the answer to the submit does.
      gw.issuer.authorize = async function (this: typeof gw.issuer, request) {
        const decision = await authorize.call(this, request);
        const body = approvedCallback(request.gatewayRef, decision.authorizationId!);
        const cb = await fetch(`${gw.url}/bank/callbacks`, {
          method: 'POST',
          headers: signedCallback(body, `sreq_race_${request.gatewayRef}`),
          body,
        });
        assert.equal(cb.status, 200, await cb.text());
        return decision;
      };
      let res: Response;
      try {
        res = await pay(id);
      } finally {
        gw.issuer.authorize = authorize;
      }
      assert.equal(res.status, 200);
      // The callback's approval; the shop's acknowledgement may already have had it captured.
      assert.ok(['authorized', 'captured'].includes(((await res.json()) as { status: string }).status));
      assert.equal((await settled(id)).status, 'captured');
      // Once: one authorised event, and the books hold what a payment with no race holds.
      const plain = await newSession();
      await pay(plain);
      await settled(plain);
      const count = async (sessionId: string) => {
        const [r] = await rows<{ events: number; transfers: number }>(
          gw.database.db,
          sql`select (select count(*)::int from events where session_id = ${sessionId} and type = 'payment.authorized') as events,
                     (select count(*)::int from ledger_transfers where session_id = ${sessionId}) as transfers`,
        );
        return r!;
      };
      assert.deepEqual(await count(id), await count(plain));
      assert.equal((await count(id)).events, 1);
    });

    it('a lost callback is made up for by polling the bank', async () => {
      const id = await newSession();
      await pay(id, card('4000000000000077'));
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      gw.issuer.decide(auth.id, 'declined', 'approval_expired');
      // Make the session look pending for long enough to be polled.
      await gw.database.db.execute(
        sql`update payment_sessions set updated_at = now() - interval '1 minute' where id = ${id}`,
      );
      const s = await settled(id);
      assert.equal(s.status, 'declined');
      assert.equal(s.decline_reason, 'approval_expired');
    });

    it('no card number or CVC in any table, the event feed or the logs; only last 4, brand and fingerprint', async () => {
      const tables = await rows<{ table_name: string }>(
        gw.database.db,
        sql`select table_name from information_schema.tables where table_schema = 'public'`,
      );
      let dump = '';
      for (const { table_name } of tables) {
        const all = await rows<{ t: string }>(
          gw.database.db,
          sql.raw(`select coalesce(string_agg(x::text, E'\\n'), '') as t from "${table_name}" x`),
        );
        dump += all[0]!.t;
      }
      assert.ok(dump.includes('4242'), 'the dump is real (last 4 digits are there)');
      for (const number of [PAN, '4000002500003155', '4000000000009995', '4000000000000119']) {
        assert.ok(!dump.includes(number), `${number} found in the database`);
        assert.ok(!gw.logs.lines.join('').includes(number), `${number} found in the logs`);
      }
      const columns = await rows<{ column_name: string }>(
        gw.database.db,
        sql`select column_name from information_schema.columns where table_schema = 'public'`,
      );
      const names = columns.map((c) => c.column_name);
      assert.ok(names.includes('card_last4'));
      for (const name of names)
        assert.ok(!/cvc|cvv|pan|card_number|exp_/.test(name), `column ${name} could hold card data`);
      const feed = await (await gw.api('/v1/events?limit=100')).text();
      assert.ok(!feed.includes(PAN));
      assert.ok(gw.logs.lines.length > 0);
    });
  });
}
