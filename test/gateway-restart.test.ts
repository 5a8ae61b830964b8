// The demo merchant is upserted from configuration at every start: a restart keeps the merchant, its
// sessions and its key working (and the keys the merchant made since), and a changed configured secret
// or key replaces the old ones. Both engines,
// each on a database that outlives the process (a PGlite directory, a PostgreSQL database).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { gatewayDatabaseSpec, loadGatewayConfig, startGateway } from '../src/gateway/main.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { rows } from '../src/platform/db/database.ts';
import { databaseUrl, freshPostgresDatabaseName, testEngines } from '../src/platform/db/testing.ts';
import { createLogger } from '../src/platform/log.ts';
import { systemClock } from '../src/platform/clock.ts';
import { addApiKey, findApiKeyOwner } from '../src/gateway/storage/merchants.ts';
import { sessionHelpers } from './support/gateway-sessions.ts';

const KEY = 'sk_test_restartrestartrestart0001';

for (const engine of testEngines()) {
  describe(`gateway restart (${engine})`, () => {
    it('keeps the demo merchant, its sessions and its key across restarts, and follows a changed secret', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cs-gw-restart-'));
      const location =
        engine === 'pglite'
          ? { GATEWAY_DATA_DIR: join(dir, 'db') }
          : { GATEWAY_DATABASE_URL: databaseUrl(await freshPostgresDatabaseName(gatewayDatabaseSpec)) };
      const env = (secret: string, key = KEY) =>
        loadGatewayConfig({
          GATEWAY_PORT: '0',
          GATEWAY_BANK_KEY: newWebhookSecret(),
          GATEWAY_BANK_CALLBACK_SECRET: newWebhookSecret(),
          GATEWAY_DEMO_MERCHANT_API_KEY: key,
          GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: secret,
          ...location,
        });
      const log = createLogger('gateway', 'silent');
      const first = newWebhookSecret();
      const second = newWebhookSecret();
      try {
        let gw = await startGateway(env(first), { log });
        const created = await fetch(`${gw.url}/v1/payment_sessions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ amount: { minor: '100', currency: 'EUR' }, merchant_reference: 'r1' }),
        });
        const { id } = (await created.json()) as { id: string };
        await gw.stop();

        gw = await startGateway(env(first), { log });
        const got = await fetch(`${gw.url}/v1/payment_sessions/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
        assert.equal(got.status, 200);
        // A key the merchant made since (as the dashboard does) outlives a restart with the same configuration.
        const made = `sk_test_madeinthedashboard${Date.now()}`;
        await addApiKey(gw.database.db, (await findApiKeyOwner(gw.database.db, KEY))!.merchant.id, made, systemClock);
        await gw.stop();
        gw = await startGateway(env(first), { log });
        const withMade = await fetch(`${gw.url}/v1/payment_sessions/${id}`, {
          headers: { authorization: `Bearer ${made}` },
        });
        assert.equal(withMade.status, 200, 'a dashboard key is not revoked by a restart');
        await gw.stop();

        gw = await startGateway(env(second), { log });
        const merchants = await rows<{ n: number }>(gw.database.db, sql`select count(*)::int as n from merchants`);
        assert.equal(merchants[0]!.n, 1);
        const active = await rows<{ secret: string }>(
          gw.database.db,
          sql`select secret from signing_secrets where retired_at is null`,
        );
        assert.deepEqual(
          active.map((a) => a.secret),
          [second],
        );
        await gw.stop();
        // A changed configured key replaces the merchant's keys: the one made in the dashboard goes too.
        gw = await startGateway(env(second, `${KEY}x`), { log });
        const revoked = await fetch(`${gw.url}/v1/payment_sessions/${id}`, {
          headers: { authorization: `Bearer ${made}` },
        });
        assert.equal(revoked.status, 401);
        await gw.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('gateway job lease', () => {
  it("holds a claimed delivery for GATEWAY_JOB_LEASE_SECONDS, so a crashed gateway's work is taken over that soon, not after the default minute", async () => {
    const shop = await webhookReceiver();
    shop.setRespond(() => undefined); // the shop never answers: the delivery stays claimed
    const gw = await startTestGateway('postgres', {
      webhookUrl: shop.url,
      webhookTimeoutMs: 30_000,
      jobLeaseSeconds: 3,
    });
    try {
      const { newSession, pay } = sessionHelpers(() => gw, 'lease');
      const id = await newSession();
      assert.equal((await pay(id)).status, 200);
      // The lease runs from the claim (and from each heartbeat): never more than 3 s ahead of now.
      const ahead = await eventually(
        async () => {
          const [job] = await rows<{ ahead: number }>(
            gw.database.db,
            sql`select extract(epoch from locked_until - now())::float as ahead from jobs where status = 'running' and task = 'gateway.deliver_webhook'`,
          );
          return job ? job.ahead : undefined;
        },
        10_000,
        'the delivery to be claimed',
      );
      assert.ok(ahead > 0 && ahead <= 3.5, `lease ${ahead} s ahead, configured 3 s`);
      assert.throws(
        () =>
          loadGatewayConfig({
            GATEWAY_BANK_KEY: newWebhookSecret(),
            GATEWAY_BANK_CALLBACK_SECRET: newWebhookSecret(),
            GATEWAY_JOB_LEASE_SECONDS: '0',
          }),
        /GATEWAY_JOB_LEASE_SECONDS/,
      );
    } finally {
      await shop.close();
      await gw.stop();
    }
  });
});

describe('gateway configuration', () => {
  it('refuses to start with a message naming each bad variable, never echoing a secret', () => {
    assert.throws(
      () =>
        loadGatewayConfig({
          GATEWAY_BANK_CALLBACK_SECRET: 'not-a-secret-value',
          GATEWAY_DEMO_MERCHANT_API_KEY: 'pk_wrong',
        }),
      (err: Error) => {
        assert.match(err.message, /GATEWAY_BANK_KEY/);
        assert.match(err.message, /GATEWAY_BANK_CALLBACK_SECRET/);
        assert.match(err.message, /GATEWAY_DEMO_MERCHANT_API_KEY/);
        assert.ok(!err.message.includes('not-a-secret-value'));
        return true;
      },
    );
    assert.throws(
      () =>
        loadGatewayConfig({
          GATEWAY_BANK_KEY: newWebhookSecret(),
          GATEWAY_BANK_CALLBACK_SECRET: newWebhookSecret(),
          GATEWAY_DEMO_MERCHANT_API_KEY: KEY,
        }),
      /must be set together/,
    );
  });
});
