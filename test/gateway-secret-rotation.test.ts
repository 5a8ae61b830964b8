// Rotating the webhook signing secret through the gateway's API (POST /v1/webhook_secrets/rotate) on
// both engines, with a real local webhook receiver: the new secret signs at once, the previous one
// beside it until the overlap ends and never after; a retry with the same Idempotency-Key is the same
// secret; a merchant rotates only its own secrets; no secret in a log; a restart with the configured
// (older) secret keeps the rotation.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { systemClock } from '../src/platform/clock.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { activeSecrets, DEMO_MERCHANT_ID, upsertMerchant } from '../src/gateway/storage/merchants.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { sessionHelpers } from './support/gateway-sessions.ts';

const OTHER = { id: 'mer_0000000000000000000000OTH1', apiKey: 'sk_test_othermerchantkey0123456789ab' };

interface Rotated {
  object: string;
  secret: string;
  fingerprint: string;
  created_at: string;
  previous_expires_at: string | null;
}

for (const engine of testEngines()) {
  describe(`gateway webhook-secret rotation (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;
    const seen: string[] = [];
    before(async () => {
      shop = await webhookReceiver();
      gw = await startTestGateway(engine, { webhookUrl: shop.url });
      seen.push(gw.webhookSecret);
      await upsertMerchant(
        gw.database.db,
        { id: OTHER.id, name: 'Other', webhookUrl: null, apiKey: OTHER.apiKey, webhookSecret: newWebhookSecret() },
        systemClock,
      );
    });
    after(async () => {
      await gw?.stop();
      await shop?.close();
    });
    const { newSession, pay, settled } = sessionHelpers(() => gw, `rot_${engine}`);
    const rotate = async (body?: unknown, headers: Record<string, string> = {}, key?: string) => {
      const res = await gw.api('/v1/webhook_secrets/rotate', {
        method: 'POST',
        ...(body === undefined ? {} : { body }),
        headers,
        ...(key ? { key } : {}),
      });
      return {
        status: res.status,
        headers: res.headers,
        body: (await res.json()) as Rotated & { error?: { code: string; details?: unknown } },
      };
    };
    const secretRows = async (merchantId: string) =>
      rows<{ secret: string; expires_at: Date | null; retired_at: Date | null }>(
        gw.database.db,
        sql`select secret, expires_at, retired_at from signing_secrets where merchant_id = ${merchantId} order by created_at`,
      );
    /** The signatures of the deliveries of one new paid session, each checked against `secrets`. */
    const deliverySignatures = async (secrets: string[]) => {
      const from = shop.received.length;
      const id = await newSession();
      await pay(id);
      await settled(id);
      await eventually(() => (shop.received.length > from ? true : undefined));
      const r = shop.received[from]!;
      const headers = {
        'webhook-id': String(r.headers['webhook-id']),
        'webhook-timestamp': String(r.headers['webhook-timestamp']),
        'webhook-signature': String(r.headers['webhook-signature']),
      };
      for (const s of secrets) new Webhook(s).verify(r.body.toString('utf8'), headers);
      return headers['webhook-signature'].split(' ');
    };

    it('answers the new secret once with its fingerprint and the end of the overlap; deliveries then carry both signatures', async () => {
      const before = Date.now();
      const r = await rotate({ overlap_seconds: 3600 });
      assert.equal(r.status, 201);
      assert.equal(r.body.object, 'webhook_secret');
      assert.match(r.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.equal(r.body.fingerprint, createHash('sha256').update(r.body.secret).digest('hex').slice(0, 8));
      const ends = Date.parse(r.body.previous_expires_at!);
      assert.ok(ends >= before + 3600_000 - 1000 && ends <= Date.now() + 3600_000 + 1000, r.body.previous_expires_at!);
      seen.push(r.body.secret);
      const signatures = await deliverySignatures([gw.webhookSecret, r.body.secret]);
      assert.equal(signatures.length, 2);
    });

    it('without a body the overlap is 24 h; a third secret retires the oldest at once, so at most two sign', async () => {
      const r = await rotate();
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const ends = Date.parse(r.body.previous_expires_at!);
      assert.ok(Math.abs(ends - (Date.now() + 86400_000)) < 60_000, r.body.previous_expires_at!);
      seen.push(r.body.secret);
      const list = await secretRows(DEMO_MERCHANT_ID);
      assert.equal(list.length, 3);
      assert.ok(list[0]!.retired_at, 'the first secret is retired');
      assert.deepEqual(await activeSecrets(gw.database.db, DEMO_MERCHANT_ID, new Date()), [seen[1], seen[2]]);
      // Past the overlap only the newest signs.
      assert.deepEqual(await activeSecrets(gw.database.db, DEMO_MERCHANT_ID, new Date(Date.now() + 86401_000)), [
        seen[2],
      ]);
    });

    it('after a short overlap the gateway signs with the new secret only', async () => {
      const r = await rotate({ overlap_seconds: 1 });
      assert.equal(r.status, 201);
      seen.push(r.body.secret);
      await new Promise((done) => setTimeout(done, 1100));
      const signatures = await deliverySignatures([r.body.secret]);
      assert.equal(signatures.length, 1);
      assert.throws(() =>
        new Webhook(seen.at(-2)!).verify('{}', {
          'webhook-id': 'x',
          'webhook-timestamp': '1',
          'webhook-signature': signatures[0]!,
        }),
      );
    });

    it('a retry with the same Idempotency-Key answers the same secret and creates none; another overlap with that key is refused', async () => {
      const count = (await secretRows(DEMO_MERCHANT_ID)).length;
      const headers = { 'idempotency-key': 'rotate-once-1' };
      const first = await rotate({ overlap_seconds: 600 }, headers);
      assert.equal(first.status, 201);
      seen.push(first.body.secret);
      const again = await rotate({ overlap_seconds: 600 }, headers);
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.secret, first.body.secret);
      const other = await rotate({ overlap_seconds: 60 }, headers);
      assert.equal(other.status, 422);
      assert.equal(other.body.error?.code, 'idempotency.key_reused');
      assert.equal((await secretRows(DEMO_MERCHANT_ID)).length, count + 1, 'one secret for the three calls');
    });

    it('refuses an overlap outside 0..7 days, an unknown field, and a caller without a valid key, rotating nothing', async () => {
      const count = (await secretRows(DEMO_MERCHANT_ID)).length;
      for (const overlap of [-1, 7 * 86400 + 1, 1.5, '60'])
        assert.equal((await rotate({ overlap_seconds: overlap })).status, 422, String(overlap));
      // A misspelt field is refused, not ignored: `overlap` would otherwise rotate with the 24 h default.
      const misspelt = await rotate({ overlap: 60 });
      assert.equal(misspelt.status, 422);
      assert.match(JSON.stringify(misspelt.body.error?.details), /overlap/);
      const stranger = await fetch(`${gw.url}/v1/webhook_secrets/rotate`, { method: 'POST' });
      assert.equal(stranger.status, 401);
      assert.equal((await rotate({}, {}, 'sk_test_notakeyofthisgateway0000000')).status, 401);
      assert.equal((await secretRows(DEMO_MERCHANT_ID)).length, count);
    });

    it("another merchant's key rotates that merchant's secrets only", async () => {
      const mine = await secretRows(DEMO_MERCHANT_ID);
      const r = await rotate({ overlap_seconds: 60 }, {}, OTHER.apiKey);
      assert.equal(r.status, 201);
      assert.deepEqual(await secretRows(DEMO_MERCHANT_ID), mine, "the demo merchant's secrets are untouched");
      const theirs = await secretRows(OTHER.id);
      assert.equal(theirs.length, 2);
      assert.equal(theirs[1]!.secret, r.body.secret);
    });

    it('a restart with the configured (older) secret keeps the rotation; a new configured secret replaces them all', async () => {
      const active = await activeSecrets(gw.database.db, DEMO_MERCHANT_ID, new Date());
      const demo = {
        id: DEMO_MERCHANT_ID,
        name: 'Demo',
        webhookUrl: shop.url,
        apiKey: 'sk_test_gatewaytestkey0123456789abcdef',
      };
      await upsertMerchant(gw.database.db, { ...demo, webhookSecret: gw.webhookSecret }, systemClock);
      assert.deepEqual(await activeSecrets(gw.database.db, DEMO_MERCHANT_ID, new Date()), active);
      const configured = newWebhookSecret();
      await upsertMerchant(gw.database.db, { ...demo, webhookSecret: configured }, systemClock);
      assert.deepEqual(await activeSecrets(gw.database.db, DEMO_MERCHANT_ID, new Date()), [configured]);
    });

    it('never writes a secret to its log', () => {
      const log = gw.logs.lines.join('');
      assert.ok(log.length > 0);
      for (const s of seen) assert.ok(!log.includes(s) && !log.includes(s.slice(6, 30)), 'a secret is in the log');
    });
  });
}
