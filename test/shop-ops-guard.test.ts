// The guard of the shop's operator API (/ops/*), in process: only `Authorization: Bearer <token>`
// opens it; a missing, wrong, differently shaped or query-string token is a 401 in the shop's API
// error shape and the route never runs; without a configured token no /ops path exists (404). Then a
// real shop in process: its /ops/status shows fingerprints, never secrets, and doctor's comparison.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { secretFingerprint } from '../src/core/webhook-signature.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { secretsCheck } from '../src/cli/commands/doctor.ts';
import { fakeClock } from '../src/platform/clock.ts';
import { freshDatabase } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { createRouter, type AppEnv } from '../src/platform/http/app.ts';
import { mountOperatorApi, operatorTokenMatches, type OperatorRoutes } from '../src/shop/routes/ops-guard.ts';

const TOKEN = `ops_${'k'.repeat(43)}`;

function appWith(token: string | undefined) {
  const app = createRouter<AppEnv>();
  app.notFound((c) => c.json({ error: { code: 'not_found', message: 'Nothing is here.' } }, 404));
  const ran: string[] = [];
  const probe: OperatorRoutes = (ops) => {
    ops.post('/probe', (c) => {
      ran.push('probe');
      return c.json({ ok: true });
    });
  };
  const mounted = mountOperatorApi(app, token, [probe]);
  return { app, ran, mounted };
}

describe('the operator API guard', () => {
  it('opens /ops to the right bearer token only, with no-store and the strict headers', async () => {
    const { app, ran } = appWith(TOKEN);
    const ok = await app.request('/ops/probe', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true });
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    assert.match(ok.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(ran, ['probe']);
  });

  it('refuses a missing, wrong, reshaped or query-string token with 401 and runs nothing', async () => {
    const { app, ran } = appWith(TOKEN);
    const attempts: { headers?: Record<string, string>; query?: string }[] = [
      {},
      { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` } },
      { headers: { authorization: `Bearer ${TOKEN}x` } },
      { headers: { authorization: `Bearer ${TOKEN.slice(0, 20)}` } },
      { headers: { authorization: TOKEN } },
      { headers: { authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}` } },
      { headers: { authorization: `Bearer  ${TOKEN}` } },
      { headers: { 'x-operator-token': TOKEN } },
      { headers: { cookie: `token=${TOKEN}` } },
      { query: `?token=${TOKEN}` },
      { query: `?access_token=${TOKEN}` },
    ];
    for (const a of attempts) {
      const res = await app.request(`/ops/probe${a.query ?? ''}`, { method: 'POST', headers: a.headers ?? {} });
      assert.equal(res.status, 401, JSON.stringify(a));
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'auth.required');
      assert.doesNotMatch(JSON.stringify(body), new RegExp(TOKEN));
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    // Even an unknown /ops path asks for the token first: a stranger learns nothing of what exists.
    assert.equal((await app.request('/ops/nothing-here')).status, 401);
    assert.deepEqual(ran, []);
  });

  it('without a configured token, every /ops path answers 404 as an unknown path does', async () => {
    const { app, ran, mounted } = appWith(undefined);
    assert.equal(mounted, false);
    const tries: Record<string, string>[] = [{}, { authorization: `Bearer ${TOKEN}` }, { authorization: 'Bearer ' }];
    for (const headers of tries) {
      const res = await app.request('/ops/probe', { method: 'POST', headers });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
    }
    assert.deepEqual(ran, []);
  });

  it('matches only the exact token, case-sensitively, under the Bearer scheme', () => {
    assert.equal(operatorTokenMatches(`Bearer ${TOKEN}`, TOKEN), true);
    assert.equal(operatorTokenMatches(`bearer ${TOKEN}`, TOKEN), true);
    assert.equal(operatorTokenMatches(`Bearer ${TOKEN.toUpperCase()}`, TOKEN), false);
    assert.equal(operatorTokenMatches(undefined, TOKEN), false);
    assert.equal(operatorTokenMatches('Bearer ', TOKEN), false);
    assert.throws(() => appWith('too-short'), /too short/);
  });
});

describe('the operator API of a real shop', () => {
  const secret = newWebhookSecret();
  const shops: ServiceHandle[] = [];
  const start = async (env: Record<string, string>) => {
    const database = await freshDatabase(shopDatabaseSpec, 'pglite');
    const base = { SHOP_PORT: '0', SHOP_SESSION_SECRET: 'ops-guard-secret'.padEnd(40, 'x'), LOG_LEVEL: 'silent' };
    const shop = await startShop(loadShopConfig({ ...base, ...env }), { database, clock: fakeClock(), jobs: false });
    shops.push(shop);
    return shop;
  };
  let withToken: ServiceHandle;
  let without: ServiceHandle;
  before(async () => {
    withToken = await start({ SHOP_OPERATOR_TOKEN: TOKEN, SHOP_GATEWAY_WEBHOOK_SECRETS: secret });
    without = await start({ SHOP_GATEWAY_WEBHOOK_SECRETS: secret });
  });
  after(async () => {
    for (const shop of shops) await shop.stop();
  });

  it('GET /ops/status: migrations current, no stuck job, fingerprints of the webhook secrets and never a secret', async () => {
    const res = await withToken.app.request('/ops/status', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes(secret) && !text.includes(secret.slice(6)), 'the secret stays in the shop');
    const status = JSON.parse(text) as {
      migrations: { applied: number; bundled: number };
      jobs: { overdue: number; abandoned: number; failed: number };
      webhook_secrets: { fingerprints: string[] };
      gateway: { api_key: string };
    };
    assert.ok(status.migrations.bundled > 5);
    assert.equal(status.migrations.applied, status.migrations.bundled);
    assert.deepEqual([status.jobs.overdue, status.jobs.abandoned, status.jobs.failed], [0, 0, 0]);
    assert.deepEqual(status.webhook_secrets.fingerprints, [secretFingerprint(secret)]);
    assert.equal(status.gateway.api_key, 'not_configured');
    // Without a gateway there is nothing to reconcile with: 502, which the CLI reports as "could not check".
    const rec = await withToken.app.request('/ops/reconcile', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dry_run: true }),
    });
    assert.equal(rec.status, 502);
    const bad = await withToken.app.request('/ops/reconcile', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dry_run: 'yes', drop: true }),
    });
    assert.equal(bad.status, 422);
  });

  it('a shop started without SHOP_OPERATOR_TOKEN has no /ops at all (404 with or without a token)', async () => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      assert.equal((await without.app.request('/ops/status', { headers })).status, 404);
      assert.equal((await without.app.request('/ops/reconcile', { method: 'POST', headers })).status, 404);
    }
    assert.throws(
      () => loadShopConfig({ SHOP_SESSION_SECRET: 'x'.repeat(40), SHOP_OPERATOR_TOKEN: 'short' }),
      (e) => /SHOP_OPERATOR_TOKEN: must be at least 32 characters \(got \(value hidden\)\)/.test((e as Error).message),
    );
  });

  it("doctor's secret check: consistent when one secret is shared (a rotation), red when none is", () => {
    const [a, b, c] = [newWebhookSecret(), newWebhookSecret(), newWebhookSecret()].map(secretFingerprint);
    assert.equal(secretsCheck([a!], [a!]).ok, true);
    assert.equal(secretsCheck([a!, b!], [b!]).ok, true);
    const red = secretsCheck([a!], [c!]);
    assert.equal(red.ok, false);
    assert.match(red.detail, /none shared: every webhook is refused/);
    assert.match(red.fix ?? '', /SHOP_GATEWAY_WEBHOOK_SECRETS/);
  });
});
