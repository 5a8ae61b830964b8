// The guard of the shop's operator API (/ops/*), in process: only `Authorization: Bearer <token>`
// opens it; a missing, wrong, differently shaped or query-string token is a 401 in the shop's API
// error shape and the route never runs; without a configured token no /ops path exists (404).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
