// Fault injection (off by default, per merchant, reproducible from a seed) on both engines:
// duplicated, dropped and delayed webhooks, failed API calls; plus re-sending a delivery and the
// recovery of a session left in processing by a crash.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { systemClock } from '../src/platform/clock.ts';
import { addApiKey } from '../src/gateway/storage/merchants.ts';
import { merchants } from '../src/gateway/storage/tables.ts';
import { eventually, startTestGateway, TEST_STRIPE_API_KEY, webhookReceiver } from '../src/gateway/testing.ts';
import { APPROVED_CARD, cardDetails } from './support/factories.ts';

const card = cardDetails(APPROVED_CARD, { name: 'A Payer' });
const OFF = { enabled: false, seed: 'off', config: {} };

for (const engine of testEngines()) {
  describe(`gateway fault injection (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;
    let n = 0;
    before(async () => {
      shop = await webhookReceiver();
      gw = await startTestGateway(engine, { webhookUrl: shop.url });
    });
    after(async () => {
      await gw?.stop();
      await shop?.close();
    });
    beforeEach(async () => {
      assert.equal((await gw.api('/v1/admin/fault_injection', { method: 'PUT', body: OFF })).status, 200);
    });

    const faults = (body: unknown) => gw.api('/v1/admin/fault_injection', { method: 'PUT', body });
    async function paidSession() {
      const res = await gw.api('/v1/payment_sessions', {
        body: { amount: { minor: '700', currency: 'EUR' }, merchant_reference: `f_${engine}_${++n}` },
      });
      const { id } = (await res.json()) as { id: string };
      // Before the submit: the delivery is enqueued inside it, so a hold counts from there.
      const at = Date.now();
      const paid = await fetch(`${gw.url}/pay/${id}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(card),
      });
      assert.equal(paid.status, 200);
      return { id, at };
    }

    it('is off by default: GET shows disabled and deliveries arrive once', async () => {
      const got = (await (await gw.api('/v1/admin/fault_injection')).json()) as { enabled: boolean };
      assert.equal(got.enabled, false);
      const { id } = await paidSession();
      await eventually(() => (shop.eventsFor(id).some((e) => e.type === 'payment.captured') ? true : undefined));
      assert.equal(shop.eventsFor(id).filter((e) => e.type === 'payment.authorized').length, 1);
    });

    it('duplicate sends the same message twice with the same webhook-id and bytes', async () => {
      assert.equal((await faults({ enabled: true, seed: 'dup', config: { webhooks: { duplicate: 1 } } })).status, 200);
      const { id } = await paidSession();
      const copies = await eventually(() => {
        const list = shop.received.filter(
          (r) =>
            JSON.parse(r.body.toString()).data.session_id === id &&
            JSON.parse(r.body.toString()).type === 'payment.authorized',
        );
        return list.length >= 2 ? list : undefined;
      });
      assert.equal(copies[0]!.headers['webhook-id'], copies[1]!.headers['webhook-id']);
      assert.ok(copies[0]!.body.equals(copies[1]!.body));
    });

    it('drop loses an attempt: it is logged as such, nothing arrives, and a retry is scheduled', async () => {
      await faults({ enabled: true, seed: 'drop', config: { webhooks: { drop: 1 } } });
      const { id } = await paidSession();
      const attempt = await eventually(async () => {
        const r = await rows<{ error: string | null; next_attempt_at: Date | null; status: string }>(
          gw.database.db,
          sql`select a.error, d.next_attempt_at, d.status from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id join events e on e.id = d.event_id where e.session_id = ${id}`,
        );
        return r[0];
      });
      assert.equal(attempt.error, 'fault_injected: dropped');
      assert.equal(attempt.status, 'pending');
      assert.ok(attempt.next_attempt_at);
      assert.equal(shop.eventsFor(id).length, 0);
    });

    it('drop_permanently gives a dropped delivery up at once: failed, no retry, nothing arrives, and the event stays in the feed', async () => {
      await faults({ enabled: true, seed: 'drop-for-good', config: { webhooks: { drop: 1, drop_permanently: true } } });
      const { id } = await paidSession();
      const attempts = await eventually(async () => {
        const r = await rows<{ error: string | null; next_attempt_at: Date | null; status: string; attempts: number }>(
          gw.database.db,
          sql`select a.error, d.next_attempt_at, d.status, d.attempts from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id join events e on e.id = d.event_id where e.session_id = ${id} and e.type = 'payment.authorized'`,
        );
        return r[0]?.status === 'failed' ? r : undefined;
      });
      assert.equal(attempts.length, 1, 'one attempt, never retried');
      assert.equal(attempts[0]!.error, 'fault_injected: dropped');
      assert.equal(attempts[0]!.next_attempt_at, null);
      assert.equal(shop.eventsFor(id).length, 0);
      const feed = (await (await gw.api('/v1/events?limit=100')).json()) as {
        data: { type: string; data: { session_id: string } }[];
      };
      assert.ok(
        feed.data.some((e) => e.type === 'payment.authorized' && e.data.session_id === id),
        'the feed still has the event',
      );
    });

    it('duplicate_copies sends a duplicated delivery up to that many extra times, all with the same webhook-id and bytes', async () => {
      assert.equal(
        (await faults({ enabled: true, seed: 'dup-many', config: { webhooks: { duplicate: 1, duplicate_copies: 4 } } }))
          .status,
        200,
      );
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const { id } = await paidSession();
        const copies = await eventually(() => {
          const list = shop.received.filter(
            (r) =>
              JSON.parse(r.body.toString()).data.session_id === id &&
              JSON.parse(r.body.toString()).type === 'payment.authorized',
          );
          return list.length >= 2 ? list : undefined;
        });
        // The job sends the extra copies one after another and only then records the delivery: once
        // it is recorded, every copy has arrived, however slow the machine.
        await eventually(async () => {
          const r = await rows<{ status: string }>(
            gw.database.db,
            sql`select d.status from webhook_deliveries d join events e on e.id = d.event_id where e.session_id = ${id} and e.type = 'payment.authorized'`,
          );
          return r[0]?.status === 'delivered' ? r : undefined;
        });
        const all = shop.received.filter(
          (r) =>
            JSON.parse(r.body.toString()).data.session_id === id &&
            JSON.parse(r.body.toString()).type === 'payment.authorized',
        );
        assert.ok(
          all.every(
            (c) => c.headers['webhook-id'] === copies[0]!.headers['webhook-id'] && c.body.equals(copies[0]!.body),
          ),
        );
        counts.push(all.length);
      }
      assert.ok(
        counts.every((n) => n >= 2 && n <= 5),
        `between 2 and 5 sends each: ${counts}`,
      );
      assert.ok(
        counts.some((n) => n > 2),
        `some delivery was sent more than twice: ${counts}`,
      );
    });

    it('delay holds a delivery back by delay_ms', async () => {
      await faults({ enabled: true, seed: 'delay', config: { webhooks: { delay: 1, delay_ms: 1500 } } });
      const { id, at } = await paidSession();
      const first = await eventually(() =>
        shop.received.find((r) => JSON.parse(r.body.toString()).data.session_id === id),
      );
      assert.ok(first.at - at >= 1400, `arrived after ${first.at - at} ms`);
    });

    it('API fail answers 502 before anything happens, and the same seed gives the same faults again', async () => {
      const config = { api: { fail: 0.5 } };
      const run = async () => {
        await faults({ enabled: true, seed: 'api-seed-1', config });
        const out: number[] = [];
        for (let i = 0; i < 8; i++) out.push((await gw.api('/v1/events?limit=1')).status);
        return out;
      };
      const a = await run();
      const b = await run();
      assert.deepEqual(a, b);
      assert.ok(a.includes(502) && a.includes(200), `a mix of failures and successes: ${a}`);
      await faults({ enabled: true, seed: 'all-fail', config: { api: { fail: 1 } } });
      const before = await rows<{ n: number }>(gw.database.db, sql`select count(*)::int as n from payment_sessions`);
      const res = await gw.api('/v1/payment_sessions', {
        body: { amount: { minor: '1', currency: 'EUR' }, merchant_reference: 'x' },
      });
      assert.equal(res.status, 502);
      const afterCount = await rows<{ n: number }>(
        gw.database.db,
        sql`select count(*)::int as n from payment_sessions`,
      );
      assert.equal(afterCount[0]!.n, before[0]!.n);
    });

    it("the switch is the merchant's own and read with each request, in both dialects", async () => {
      // Another merchant with a key of its own, beside the demo merchant whose faults are switched here.
      const other = `mer_other_${engine}`;
      const otherKey = `sk_test_othermerchant${engine}0123456789ab`;
      await gw.database.db.insert(merchants).values({ id: other, name: 'Other Shop', createdAt: new Date() });
      await addApiKey(gw.database.db, other, otherKey, systemClock);
      const balance = () =>
        fetch(`${gw.url}/v1/balance`, { headers: { authorization: `Bearer ${TEST_STRIPE_API_KEY}` } });

      await faults({ enabled: true, seed: 'all-fail', config: { api: { fail: 1 } } });
      assert.equal((await gw.api('/v1/events?limit=1')).status, 502, 'native dialect: failed as configured');
      const failed = await balance();
      assert.equal(failed.status, 502, 'Stripe dialect: failed as configured');
      assert.equal(((await failed.json()) as { error: { type: string } }).error.type, 'api_error');
      assert.equal(
        (await gw.api('/v1/events?limit=1', { key: otherKey })).status,
        200,
        'the other merchant is untouched',
      );

      await faults(OFF);
      assert.equal((await gw.api('/v1/events?limit=1')).status, 200, 'off takes effect on the next request');
      assert.equal((await balance()).status, 200);
      await faults({ enabled: true, seed: 'all-fail-again', config: { api: { fail: 1 } } });
      assert.equal((await balance()).status, 502, 'and on again on the next one');
    });

    it('a delivery can be re-sent through the API', async () => {
      const { id } = await paidSession();
      await eventually(() => (shop.eventsFor(id).some((e) => e.type === 'payment.captured') ? true : undefined));
      const [d] = await rows<{ id: string }>(
        gw.database.db,
        sql`select d.id from webhook_deliveries d join events e on e.id = d.event_id where e.session_id = ${id} and e.type = 'payment.captured'`,
      );
      const res = await gw.api(`/v1/webhook_deliveries/${d!.id}/resend`, { method: 'POST' });
      assert.equal(res.status, 202);
      await eventually(() =>
        shop.eventsFor(id).filter((e) => e.type === 'payment.captured').length === 2 ? true : undefined,
      );
      assert.equal((await gw.api('/v1/webhook_deliveries/whd_nope/resend', { method: 'POST' })).status, 404);
    });

    it('a session left in processing by a crash goes back to created and can be paid', async () => {
      const res = await gw.api('/v1/payment_sessions', {
        body: { amount: { minor: '700', currency: 'EUR' }, merchant_reference: `crash_${engine}` },
      });
      const { id } = (await res.json()) as { id: string };
      await gw.database.db.execute(
        sql`update payment_sessions set status = 'processing', sequence = sequence + 1, updated_at = now() - interval '10 minutes' where id = ${id}`,
      );
      await eventually(
        async () =>
          ((await (await fetch(`${gw.url}/pay/${id}/status`)).json()) as { status: string }).status === 'created' ||
          undefined,
        12_000,
      );
      const paid = await fetch(`${gw.url}/pay/${id}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(card),
      });
      assert.equal(((await paid.json()) as { status: string }).status, 'authorized');
    });
  });
}
