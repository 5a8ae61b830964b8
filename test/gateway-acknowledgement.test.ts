// The acknowledgement rule on both engines, with a fake issuer and a real local webhook receiver:
// payment.authorized -> a 2xx in time captures; refusal (409/422), silence, errors and slowness all
// void and never capture; a 410 disables the endpoint. Every attempt is logged.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { acknowledgeSession } from '../src/gateway/commands/acknowledge-session.ts';
import { refuseSession } from '../src/gateway/commands/refuse-session.ts';
import { DEMO_MERCHANT_ID } from '../src/gateway/storage/merchants.ts';
import { findSession } from '../src/gateway/storage/sessions.ts';
import { systemClock } from '../src/platform/clock.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { sessionHelpers } from './support/gateway-sessions.ts';

for (const engine of testEngines()) {
  describe(`gateway acknowledgement rule (${engine})`, () => {
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

    it('refusal: a 409 answer voids at once with the reason from the body, and nothing is captured', async () => {
      shop.setRespond(
        (_r, res) =>
          void res
            .writeHead(409, { 'content-type': 'application/json' })
            .end('{"error":{"code":"invoice.expired","message":"The invoice has expired."}}'),
      );
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

    it('POST /v1/payment_sessions/{id}/acknowledge captures an authorisation whose webhook never got a 2xx; a repeat is a no-op; after a refusal it is 409', async () => {
      // The shop's endpoint is down (500s): only the API can acknowledge.
      shop.setRespond((_r, res) => void res.writeHead(500).end());
      const id = await newSession();
      await pay(id);
      assert.equal((await session(id)).acknowledgement, null);
      const ack = await gw.api(`/v1/payment_sessions/${id}/acknowledge`, { method: 'POST' });
      assert.equal(ack.status, 200, await ack.clone().text());
      assert.equal(((await ack.json()) as { acknowledgement: string }).acknowledgement, 'acknowledged');
      const s = await settled(id);
      assert.equal(s.status, 'captured');
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === id)!;
      assert.equal(
        (await gw.api(`/v1/payment_sessions/${id}/acknowledge`, { method: 'POST' })).status,
        200,
        'a repeat is a no-op',
      );
      assert.equal(gw.issuer.count(`capture:${auth.id}`), 1);

      shop.setRespond(
        (_r, res) =>
          void res
            .writeHead(409, { 'content-type': 'application/json' })
            .end('{"error":{"code":"invoice.expired","message":"x"}}'),
      );
      const refused = await newSession();
      await pay(refused);
      await settled(refused);
      const late = await gw.api(`/v1/payment_sessions/${refused}/acknowledge`, { method: 'POST' });
      assert.equal(late.status, 409);
      assert.equal((await session(refused)).status, 'voided');
      assert.equal((await gw.api('/v1/payment_sessions/ps_nope/acknowledge', { method: 'POST' })).status, 404);
    });

    it('a 2xx acted on with the session as the delivery read it: acknowledges and schedules one capture; when the session changed since, it writes nothing and answers from the locked row', async () => {
      // The endpoint answers 500, so the delivery job itself acknowledges nothing here.
      shop.setRespond((_r, res) => void res.writeHead(500).end());
      const deps = { database: gw.database, clock: systemClock };
      const settleJobs = async (id: string) =>
        (
          await rows<{ n: number }>(
            gw.database.db,
            sql`select count(*)::int as n from jobs where key = ${`settle:${id}`}`,
          )
        )[0]!.n;

      const fresh = await newSession();
      await pay(fresh);
      const asRead = (await findSession(gw.database.db, fresh))!;
      assert.equal(await acknowledgeSession(deps, fresh, asRead), true);
      assert.equal((await session(fresh)).acknowledgement, 'acknowledged');
      assert.equal(await settleJobs(fresh), 1);
      assert.equal((await settled(fresh)).status, 'captured');

      // Read, then acknowledged through the API before the 2xx is acted on: the stale row's guarded
      // write changes nothing, the locked row says it is acknowledged already, and one capture is scheduled.
      const raced = await newSession();
      await pay(raced);
      const stale = (await findSession(gw.database.db, raced))!;
      assert.equal((await gw.api(`/v1/payment_sessions/${raced}/acknowledge`, { method: 'POST' })).status, 200);
      assert.equal(await acknowledgeSession(deps, raced, stale), false);
      assert.equal(await settleJobs(raced), 1);
      assert.equal((await settled(raced)).status, 'captured');
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === raced)!;
      assert.equal(gw.issuer.count(`capture:${auth.id}`), 1);

      // Read, then refused (the shop's 409 to a later attempt of the delivery): nothing acknowledged.
      const voided = await newSession();
      await pay(voided);
      const before = (await findSession(gw.database.db, voided))!;
      await refuseSession(deps, voided, 'invoice.expired');
      assert.equal(await acknowledgeSession(deps, voided, before), false);
      assert.equal(await settleJobs(voided), 1, "the refusal's void, and no other");
      const end = await settled(voided);
      assert.equal(end.status, 'voided');
      assert.equal(end.acknowledgement, 'refused');
      const refusedAuth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === voided)!;
      assert.equal(gw.issuer.count(`capture:${refusedAuth.id}`), 0);
    });

    it('a delivery acknowledged in one statement is settled with its one attempt; one whose session moved meanwhile is settled after the locked answer, its attempt logged once', async () => {
      const authorizedDelivery = async (id: string) =>
        eventually(async () => {
          const [d] = await rows<{ status: string; attempts: number; logged: number; settle_jobs: number }>(
            gw.database.db,
            sql`select d.status, d.attempts,
                       (select count(*)::int from webhook_attempts a where a.delivery_id = d.id) as logged,
                       (select count(*)::int from jobs where key = ${`settle:${id}`}) as settle_jobs
                from webhook_deliveries d join events e on e.id = d.event_id
                where e.session_id = ${id} and e.type = 'payment.authorized'`,
          );
          return d?.status === 'pending' ? undefined : d;
        });
      const expected = { status: 'delivered', attempts: 1, logged: 1, settle_jobs: 1 };

      const plain = await newSession();
      await pay(plain);
      assert.deepEqual(await authorizedDelivery(plain), expected);
      assert.equal((await settled(plain)).status, 'captured');

      // The shop acknowledges through the API, then answers 2xx: the session the delivery read is
      // stale, so the one statement writes the attempt only; the locked way finds it acknowledged.
      shop.setRespond(async (r, res) => {
        const event = JSON.parse(r.body.toString()) as { type: string; data: { session_id: string } };
        if (event.type === 'payment.authorized')
          await gw.api(`/v1/payment_sessions/${event.data.session_id}/acknowledge`, { method: 'POST' });
        res.writeHead(200).end('{}');
      });
      const raced = await newSession();
      await pay(raced);
      assert.deepEqual(await authorizedDelivery(raced), expected);
      assert.equal((await settled(raced)).status, 'captured');
      const auth = [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === raced)!;
      assert.equal(gw.issuer.count(`capture:${auth.id}`), 1);
    });

    it('refusal with 422 voids too', async () => {
      shop.setRespond(
        (_r, res) => void res.writeHead(422).end('{"error":{"code":"invoice.amount_mismatch","message":"x"}}'),
      );
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

    it('a 410 answer disables the webhook endpoint', async () => {
      shop.setRespond((_r, res) => void res.writeHead(410).end());
      const id = await newSession();
      await pay(id);
      await eventually(async () => {
        const r = await rows<{ webhook_enabled: boolean }>(
          gw.database.db,
          sql`select webhook_enabled from merchants where id = ${DEMO_MERCHANT_ID}`,
        );
        return r[0]!.webhook_enabled === false ? true : undefined;
      });
      // Nothing acknowledged it: the window closes it as a void (made short here).
      await gw.database.db.execute(sql`update payment_sessions set ack_deadline = now() where id = ${id}`);
      assert.equal((await settled(id)).status, 'voided');
      // The 410's delivery ends disabled. The void's event is in the feed, and its delivery is kept,
      // disabled, with no job to send it.
      const deliveries = async (sessionId: string) =>
        rows<{ type: string; status: string | null; jobs: number }>(
          gw.database.db,
          sql`select e.type, d.status,
                     (select count(*)::int from jobs j where j.key = d.id || ':1') as jobs
                from events e left join webhook_deliveries d on d.event_id = e.id
               where e.session_id = ${sessionId} order by e.cursor`,
        );
      assert.deepEqual(await deliveries(id), [
        { type: 'payment.authorized', status: 'disabled', jobs: 1 },
        { type: 'payment.voided', status: 'disabled', jobs: 0 },
      ]);
      // A merchant with no URL: the events are in the feed, and no delivery is written.
      const [{ url }] = (await rows<{ url: string }>(
        gw.database.db,
        sql`select webhook_url as url from merchants where id = ${DEMO_MERCHANT_ID}`,
      )) as [{ url: string }];
      await gw.database.db.execute(
        sql`update merchants set webhook_url = '', webhook_enabled = true where id = ${DEMO_MERCHANT_ID}`,
      );
      try {
        const quiet = await newSession();
        await pay(quiet);
        assert.deepEqual(await deliveries(quiet), [{ type: 'payment.authorized', status: null, jobs: 0 }]);
      } finally {
        await gw.database.db.execute(sql`update merchants set webhook_url = ${url} where id = ${DEMO_MERCHANT_ID}`);
      }
    });
  });
}
