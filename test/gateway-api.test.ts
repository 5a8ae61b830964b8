// The gateway's merchant API against a real database on both engines (only the bank is faked):
// sessions, validation, authentication, cancel, idempotency (including concurrent identical
// requests), the event feed, and refunds that never add up to more than was captured.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { eventually, startTestGateway } from '../src/gateway/testing.ts';
import { APPROVED_CARD, cardDetails } from './support/factories.ts';

const validBody = (ref = 'inv_1') => ({
  amount: { minor: '1999', currency: 'EUR' },
  merchant_reference: ref,
  description: 'Order 1',
  expires_in_seconds: 1800,
  return_url: 'http://shop.test/return',
  cancel_url: 'http://shop.test/cancel',
});

const card = cardDetails(APPROVED_CARD, { name: 'A Payer' });

for (const engine of testEngines()) {
  describe(`gateway API (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    before(async () => {
      gw = await startTestGateway(engine);
    });
    after(async () => {
      await gw?.stop();
    });

    it('creates a session and returns its id, status created and the hosted page URL; GET returns the same', async () => {
      const res = await gw.api('/v1/payment_sessions', { body: validBody() });
      assert.equal(res.status, 201);
      const s = (await res.json()) as {
        id: string;
        status: string;
        hosted_url: string;
        amount: unknown;
        acknowledged: boolean;
      };
      assert.match(s.id, /^ps_/);
      assert.equal(s.status, 'created');
      assert.equal(s.hosted_url, `${gw.url}/pay/${s.id}`);
      assert.deepEqual(s.amount, { minor: '1999', currency: 'EUR' });
      assert.equal(s.acknowledged, false);
      const got = await gw.api(`/v1/payment_sessions/${s.id}`);
      assert.equal(got.status, 200);
      assert.equal(((await got.json()) as { id: string }).id, s.id);
    });

    it('refuses bad input with 422 validation.failed naming the field', async () => {
      for (const body of [
        { ...validBody(), amount: { minor: '12.50', currency: 'EUR' } },
        { ...validBody(), amount: { minor: '0', currency: 'EUR' } },
        { ...validBody(), amount: { minor: '100', currency: 'XXX' } },
        { ...validBody(), merchant_reference: '' },
        { ...validBody(), return_url: 'javascript:alert(1)' },
        { ...validBody(), expires_in_seconds: undefined, expires_at: new Date(Date.now() - 1000).toISOString() },
        {
          ...validBody(),
          expires_in_seconds: undefined,
          expires_at: new Date(Date.now() + 8 * 86400_000).toISOString(),
        },
      ]) {
        const res = await gw.api('/v1/payment_sessions', { body });
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'validation.failed');
      }
      const notJson = await gw.api('/v1/payment_sessions', { body: '{nope' });
      assert.ok(notJson.status === 400 || notJson.status === 422);
    });

    it('answers 401 without a valid API key and 404 for an unknown session', async () => {
      assert.equal(
        (await gw.api('/v1/payment_sessions', { body: validBody(), key: 'sk_test_wrongwrongwrongwrong' })).status,
        401,
      );
      assert.equal((await fetch(`${gw.url}/v1/events`)).status, 401);
      const missing = await gw.api('/v1/payment_sessions/ps_01JAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(missing.status, 404);
    });

    it('cancels an unpaid session once, writes payment.canceled to the feed, and the page then refuses to pay it', async () => {
      const s = (await (await gw.api('/v1/payment_sessions', { body: validBody('inv_cancel') })).json()) as {
        id: string;
      };
      const res = await gw.api(`/v1/payment_sessions/${s.id}/cancel`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { status: string }).status, 'canceled');
      const again = await gw.api(`/v1/payment_sessions/${s.id}/cancel`, { method: 'POST' });
      assert.equal(((await again.json()) as { status: string }).status, 'canceled');
      const pay = await fetch(`${gw.url}/pay/${s.id}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(card),
      });
      assert.equal(pay.status, 409);
      assert.equal(((await pay.json()) as { error: { code: string } }).error.code, 'session.not_payable');
      assert.equal(gw.issuer.count('authorize'), 0);
      const feed = (await (await gw.api('/v1/events?after=0&limit=100')).json()) as {
        data: { type: string; data: { session_id: string } }[];
      };
      assert.ok(feed.data.some((e) => e.type === 'payment.canceled' && e.data.session_id === s.id));
    });

    it('an expired session cannot be paid: the attempt expires it and nothing reaches the bank', async () => {
      const s = (await (await gw.api('/v1/payment_sessions', { body: validBody('inv_exp') })).json()) as { id: string };
      await gw.database.db.execute(
        sql`update payment_sessions set expires_at = now() - interval '1 second' where id = ${s.id}`,
      );
      const before = gw.issuer.count('authorize');
      const pay = await fetch(`${gw.url}/pay/${s.id}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(card),
      });
      assert.equal(pay.status, 409);
      assert.equal(((await pay.json()) as { error: { code: string } }).error.code, 'session.expired');
      assert.equal(gw.issuer.count('authorize'), before);
      const got = (await (await gw.api(`/v1/payment_sessions/${s.id}`)).json()) as { status: string };
      assert.equal(got.status, 'expired');
    });

    it('replays the first response for the same Idempotency-Key and body, and refuses the key with another body (422)', async () => {
      const headers = { 'idempotency-key': 'create-replay-1' };
      const first = await gw.api('/v1/payment_sessions', { body: validBody('inv_idem'), headers });
      const second = await gw.api('/v1/payment_sessions', { body: validBody('inv_idem'), headers });
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      const a = (await first.json()) as { id: string };
      const b = (await second.json()) as { id: string };
      assert.equal(a.id, b.id);
      const count = await rows<{ n: number }>(
        gw.database.db,
        sql`select count(*)::int as n from payment_sessions where merchant_reference = 'inv_idem'`,
      );
      assert.equal(count[0]!.n, 1);
      const other = await gw.api('/v1/payment_sessions', { body: validBody('inv_other'), headers });
      assert.equal(other.status, 422);
      assert.equal(((await other.json()) as { error: { code: string } }).error.code, 'idempotency.key_reused');
    });

    it('replays a refused request too (4xx is a result), so a retry cannot turn it into a success', async () => {
      const headers = { 'idempotency-key': 'bad-one' };
      const body = { ...validBody(), amount: { minor: '-5', currency: 'EUR' } };
      const first = await gw.api('/v1/payment_sessions', { body, headers });
      const second = await gw.api('/v1/payment_sessions', { body, headers });
      assert.equal(first.status, 422);
      assert.equal(second.status, 422);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
    });

    it('concurrent identical requests with one key create exactly one session; the others replay it or get 409 in_progress', async () => {
      const headers = { 'idempotency-key': 'concurrent-create' };
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          gw.api('/v1/payment_sessions', { body: validBody('inv_conc'), headers }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { id?: string; error?: { code: string } },
          })),
        ),
      );
      const created = answers.filter((a) => a.status === 201);
      const busy = answers.filter((a) => a.status === 409);
      assert.equal(created.length + busy.length, answers.length, JSON.stringify(answers.map((a) => a.status)));
      assert.ok(created.length >= 1);
      assert.equal(new Set(created.map((a) => a.body.id)).size, 1);
      for (const b of busy) assert.equal(b.body.error?.code, 'idempotency.in_progress');
      const count = await rows<{ n: number }>(
        gw.database.db,
        sql`select count(*)::int as n from payment_sessions where merchant_reference = 'inv_conc'`,
      );
      assert.equal(count[0]!.n, 1);
    });

    it('a second request while the first is still running gets 409 idempotency.in_progress', async () => {
      // Hold the first request inside the bank call (the inline refund), then repeat it.
      const s = (await (await gw.api('/v1/payment_sessions', { body: validBody('inv_slow') })).json()) as {
        id: string;
      };
      const paid = await fetch(`${gw.url}/pay/${s.id}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(card),
      });
      assert.equal(paid.status, 200);
      await gw.database.db.execute(
        sql`update payment_sessions set status = 'captured', captured_minor = amount_minor where id = ${s.id}`,
      );
      const originalRefund = gw.issuer.refund.bind(gw.issuer);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      gw.issuer.refund = async (...args) => {
        await held;
        return originalRefund(...args);
      };
      const headers = { 'idempotency-key': 'refund-in-progress' };
      const body = { session_id: s.id, amount: { minor: '100', currency: 'EUR' }, reason: 'test' };
      const first = gw.api('/v1/refunds', { body, headers });
      await eventually(async () =>
        (
          await rows<{ n: number }>(
            gw.database.db,
            sql`select count(*)::int as n from refunds where session_id = ${s.id}`,
          )
        )[0]!.n === 1
          ? true
          : undefined,
      );
      const second = await gw.api('/v1/refunds', { body, headers });
      assert.equal(second.status, 409);
      assert.equal(((await second.json()) as { error: { code: string } }).error.code, 'idempotency.in_progress');
      release();
      assert.equal((await first).status, 201);
      gw.issuer.refund = originalRefund;
      const third = await gw.api('/v1/refunds', { body, headers });
      assert.equal(third.status, 201);
      assert.equal(third.headers.get('idempotent-replayed'), 'true');
    });

    it('a claim left in progress by a crashed request is taken over after five minutes', async () => {
      await gw.database.db.execute(
        sql`insert into idempotency_keys (merchant_id, key, request_hash, state, created_at) select id, 'crashed-key', 'x', 'in_progress', now() - interval '6 minutes' from merchants`,
      );
      const res = await gw.api('/v1/payment_sessions', {
        body: validBody('inv_crashed'),
        headers: { 'idempotency-key': 'crashed-key' },
      });
      assert.equal(res.status, 201);
      await gw.database.db.execute(
        sql`insert into idempotency_keys (merchant_id, key, request_hash, state, created_at) select id, 'recent-key', 'x', 'in_progress', now() from merchants`,
      );
      const busy = await gw.api('/v1/payment_sessions', {
        body: validBody('inv_recent'),
        headers: { 'idempotency-key': 'recent-key' },
      });
      assert.equal(busy.status, 422, 'a live claim with another hash is still refused');
    });

    it('concurrent refunds never add up to more than the captured amount', async () => {
      const s = (await (await gw.api('/v1/payment_sessions', { body: validBody('inv_refund') })).json()) as {
        id: string;
      };
      await fetch(`${gw.url}/pay/${s.id}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(card),
      });
      await gw.database.db.execute(
        sql`update payment_sessions set status = 'captured', captured_minor = amount_minor where id = ${s.id}`,
      );
      // 1999 captured; eight refunds of 500 at once: at most three fit.
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          gw.api('/v1/refunds', {
            body: { session_id: s.id, amount: { minor: '500', currency: 'EUR' }, reason: 'customer asked' },
          }),
        ),
      );
      const ok = answers.filter((a) => a.status === 201).length;
      assert.equal(ok, 3);
      for (const a of answers.filter((x) => x.status !== 201)) {
        assert.equal(a.status, 409);
        assert.equal(((await a.json()) as { error: { code: string } }).error.code, 'refund.exceeds_captured');
      }
      const got = (await (await gw.api(`/v1/payment_sessions/${s.id}`)).json()) as {
        status: string;
        refunded_amount: { minor: string };
      };
      assert.equal(got.status, 'partially_refunded');
      assert.equal(got.refunded_amount.minor, '1500');
      const last = await gw.api('/v1/refunds', {
        body: { session_id: s.id, amount: { minor: '499', currency: 'EUR' } },
      });
      assert.equal(last.status, 201);
      const after = (await (await gw.api(`/v1/payment_sessions/${s.id}`)).json()) as { status: string };
      assert.equal(after.status, 'refunded');
    });

    it('pages the event feed by cursor, oldest first, without gaps or repeats', async () => {
      const all: string[] = [];
      let cursor = '0';
      for (;;) {
        const page = (await (await gw.api(`/v1/events?after=${cursor}&limit=2`)).json()) as {
          data: { id: string; cursor: string }[];
          next_cursor: string;
          has_more: boolean;
        };
        all.push(...page.data.map((e) => e.id));
        for (const e of page.data) assert.ok(BigInt(e.cursor) > BigInt(cursor));
        cursor = page.next_cursor;
        if (!page.has_more) break;
      }
      const total = await rows<{ n: number }>(gw.database.db, sql`select count(*)::int as n from events`);
      assert.equal(all.length, total[0]!.n);
      assert.equal(new Set(all).size, all.length);
      assert.equal((await gw.api('/v1/events?after=abc')).status, 422);
    });

    it('documents the API in /openapi.json', async () => {
      const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
        webhooks: Record<string, { post: { description: string } }>;
      };
      assert.match(doc.webhooks.payment_event!.post.description, /acknowledgement window/);
      for (const p of [
        '/v1/payment_sessions',
        '/v1/payment_sessions/{id}',
        '/v1/payment_sessions/{id}/cancel',
        '/v1/payment_sessions/{id}/journey',
        '/v1/refunds',
        '/v1/events',
      ]) {
        assert.ok(doc.paths[p], p);
      }
    });
  });
}
