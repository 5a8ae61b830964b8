// `countersign reconcile` and `countersign doctor`, run as the real command line against a system
// started by `countersign start`, through the shop's operator API (/ops, bearer token): nothing to
// find, then a payment whose webhook the gateway drops for good (fault injection) — a dry run reports
// it and changes nothing, a real run takes the news and the gateway captures; doctor green, and red
// with a service down or a wrong token. The attacker's view: /ops without, with a wrong or a
// reshaped token, or with the token in the query string is 401 and runs nothing; no secret is printed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createContext } from '../src/cli/context.ts';
import { payNowInShop } from '../src/cli/shop-customer.ts';
import { countersign, type CliRun } from './support/cli.ts';
import { cardDetails } from './support/factories.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { freePort } from './support/harness/wiring.ts';

interface Finding {
  kind: string;
  session_id: string;
  fixed: boolean;
  gateway: { status: string };
  shop: { invoice_status: string; attempt_status: string };
}
interface Report {
  dry_run: boolean;
  findings: Finding[];
  remaining: number;
  events_read: number;
  events_waiting: { count: number } | null;
}
interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

describe('countersign reconcile and doctor against a running system', () => {
  let system: LaunchedSystem;
  let env: Record<string, string>;
  let secrets: Record<string, string>;
  const runs: CliRun[] = [];
  const run = async (...args: string[]) => {
    const r = await countersign(args, env);
    runs.push(r);
    return r;
  };
  const json = <T>(r: CliRun) => JSON.parse(r.stdout) as T;
  const gatewayApi = (path: string, init: RequestInit = {}) =>
    fetch(`${system.urls.gateway}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${system.demoMerchantApiKey()}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
  const sessionStatus = async (id: string) =>
    ((await (await gatewayApi(`/v1/payment_sessions/${id}`)).json()) as { status: string }).status;
  async function until(what: string, done: () => Promise<boolean>, ms = 30_000) {
    const end = Date.now() + ms;
    while (!(await done())) {
      if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  before(async () => {
    // The recurring reconciliation must not take the news before the test's own run does.
    system = await launchSystem({ LOG_LEVEL: 'warn', SHOP_RECONCILE_EVERY_SECONDS: '3600' });
    env = {
      DATA_DIR: system.dataDir,
      COUNTERSIGN_GATEWAY_URL: system.urls.gateway,
      COUNTERSIGN_SHOP_URL: system.urls.shop,
      COUNTERSIGN_BANK_URL: system.urls.bank,
    };
    secrets = JSON.parse(readFileSync(join(system.dataDir, 'secrets.json'), 'utf8')) as Record<string, string>;
  });
  after(() => system?.stop());

  it('lists reconcile and doctor in --help, each with its own help and the exit codes', async () => {
    const help = await run('--help');
    for (const c of ['reconcile', 'doctor']) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'));
    assert.match(help.stdout, /--operator-token <token>/);
    const r = await run('reconcile', '--help');
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /Usage: countersign reconcile \[options\][\s\S]*--dry-run[\s\S]*last --days days[\s\S]*Exit codes:/,
    );
    const d = await run('doctor', '--help');
    assert.equal(d.code, 0);
    assert.match(d.stdout, /Usage: countersign doctor[\s\S]*±300 s[\s\S]*Exit codes:/);
  });

  it('start generated an operator token; reconcile with nothing to find exits 0', async () => {
    assert.match(secrets.shopOperatorToken ?? '', /^ops_[A-Za-z0-9_-]{43}$/);
    const r = await run('reconcile');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nothing differs: the shop and the gateway agree/);
    const j = await run('reconcile', '--dry-run', '--json');
    assert.equal(j.code, 0, j.stderr);
    assert.equal(json<Report>(j).dry_run, true);
    assert.deepEqual(json<Report>(j).findings, []);
  });

  it('doctor: every check passes on a fresh system', async () => {
    const r = await run('doctor');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    for (const name of [
      'shop',
      'gateway',
      'bank',
      'shop migrations',
      'shop jobs',
      'shop → gateway',
      'webhook secrets',
      'clocks',
    ])
      assert.match(r.stdout, new RegExp(`^✓ ${name}: `, 'm'), r.stdout);
    assert.match(r.stdout, /all \d+ checks passed/);
    const j = await run('doctor', '--json');
    assert.equal(j.code, 0);
    const checks = json<Check[]>(j);
    assert.ok(checks.every((c) => c.ok));
    const fingerprint = checks.find((c) => c.check === 'webhook secrets')!.detail;
    assert.match(fingerprint, /shared [0-9a-f]{8}/);
  });

  it('a payment whose webhook was dropped: the dry run reports it and changes nothing, the real run takes the news', async () => {
    const faults = await gatewayApi('/v1/admin/fault_injection', {
      method: 'PUT',
      body: JSON.stringify({ enabled: true, seed: 'ops', config: { webhooks: { drop: 1, drop_permanently: true } } }),
    });
    assert.equal(faults.status, 200);
    const ctx = createContext({}, env);
    const { sessionId } = await payNowInShop(ctx);
    const paid = await fetch(`${system.urls.gateway}/pay/${sessionId}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cardDetails()),
    });
    assert.equal(paid.status, 200);
    await until('authorised at the gateway', async () => (await sessionStatus(sessionId)) === 'authorized');

    for (let i = 0; i < 2; i++) {
      const dry = await run('reconcile', '--dry-run', '--json');
      assert.equal(dry.code, 1, dry.stderr);
      const report = json<Report>(dry);
      assert.equal(report.remaining, 1);
      const [f] = report.findings;
      assert.equal(f?.kind, 'paid_there_not_here');
      assert.equal(f?.session_id, sessionId);
      assert.equal(f?.gateway.status, 'authorized');
      assert.equal(f?.shop.invoice_status, 'open', 'the dry run changed nothing');
      assert.equal(f?.fixed, false);
      assert.ok((report.events_waiting?.count ?? 0) >= 1, 'the feed holds the news');
    }
    // A stranger's real run, with no token or a wrong one, runs nothing: the news is still untaken.
    for (const authorization of [undefined, `Bearer ops_${'z'.repeat(43)}`, secrets.shopOperatorToken])
      assert.equal(
        (
          await fetch(`${system.urls.shop}/ops/reconcile`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
            body: JSON.stringify({ dry_run: false }),
          })
        ).status,
        401,
      );
    const human = await run('reconcile', '--dry-run');
    assert.equal(human.code, 1);
    assert.match(human.stdout, new RegExp(`^found  paid there, not here +inv_\\S+  ${sessionId}  `, 'm'));
    assert.match(human.stdout, /the shop has not heard/);
    assert.equal(await sessionStatus(sessionId), 'authorized');

    const real = await run('reconcile', '--json');
    assert.equal(real.code, 0, `${real.stdout}\n${real.stderr}`);
    const fixed = json<Report>(real);
    assert.equal(fixed.remaining, 0);
    assert.equal(fixed.findings[0]?.session_id, sessionId);
    assert.equal(fixed.findings[0]?.fixed, true);
    assert.ok(fixed.events_read >= 1);
    // The shop accepted it and told the gateway, which captures: the money and the order agree.
    await until('captured at the gateway', async () => (await sessionStatus(sessionId)) === 'captured');
    const again = await run('reconcile');
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /nothing differs/);
    await gatewayApi('/v1/admin/fault_injection', {
      method: 'PUT',
      body: JSON.stringify({ enabled: false, seed: 'ops', config: {} }),
    });
  });

  it('refuses /ops without the token, with a wrong or reshaped one, or with it in the query string (401, nothing run)', async () => {
    const token = secrets.shopOperatorToken!;
    const tries: { query?: string; headers?: Record<string, string> }[] = [
      {},
      { headers: { authorization: `Bearer ${token.slice(0, -2)}xx` } },
      { headers: { authorization: token } },
      { headers: { authorization: `Basic ${Buffer.from(`ops:${token}`).toString('base64')}` } },
      { headers: { authorization: `Bearer ${secrets.demoMerchantApiKey}` } },
      { headers: { cookie: `token=${token}` } },
      { query: `?token=${encodeURIComponent(token)}` },
      { query: `?access_token=${encodeURIComponent(token)}` },
    ];
    for (const t of tries)
      for (const [method, path] of [
        ['POST', '/ops/reconcile'],
        ['GET', '/ops/status'],
      ] as const) {
        const res = await fetch(`${system.urls.shop}${path}${t.query ?? ''}`, {
          method,
          headers: { 'content-type': 'application/json', ...t.headers },
          ...(method === 'POST' ? { body: JSON.stringify({ dry_run: false }) } : {}),
        });
        const text = await res.text();
        assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(t).slice(0, 60)}`);
        assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'auth.required');
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.doesNotMatch(text, /ops_/);
      }
    const wrong = await run('doctor', '--operator-token', `ops_${'x'.repeat(43)}`);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^✗ shop status: the shop refused the operator token/m);
    const refused = await run('reconcile', '--operator-token', `ops_${'y'.repeat(43)}`);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /refused the operator token/);
    assert.doesNotMatch(refused.stderr, /ops_y/);
  });

  it('no operator token is a usage error (2); a shop or a bank that does not answer exits 3', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cs-ops-empty-'));
    try {
      const none = await countersign(['reconcile', '--data-dir', empty], { ...env, DATA_DIR: empty });
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no operator token: pass --operator-token/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const dead = `http://127.0.0.1:${await freePort()}`;
    const shopDown = await run('reconcile', '--shop-url', dead);
    assert.equal(shopDown.code, 3);
    assert.match(shopDown.stderr, /cannot reach the shop/);
    const bankDown = await run('doctor', '--bank-url', dead);
    assert.equal(bankDown.code, 3, bankDown.stdout);
    assert.match(bankDown.stdout, /^✗ bank: no answer from http:\/\/127\.0\.0\.1:\d+/m);
    assert.match(bankDown.stdout, /^ {4}fix: start it/m);
    assert.match(bankDown.stdout, /^✓ shop: /m);
  });

  it('never prints a secret: the operator token, the API keys and the webhook secrets stay out of every output', () => {
    assert.ok(runs.length > 10);
    const all = runs.map((r) => `${r.stdout}\n${r.stderr}`).join('\n');
    for (const key of [
      'shopOperatorToken',
      'demoMerchantApiKey',
      'demoMerchantWebhookSecret',
      'bankGatewayKey',
    ] as const)
      assert.ok(!all.includes(secrets[key]!), `${key} was printed`);
    const logs = ['shop', 'gateway', 'bank'].map((p) => readFileSync(join(system.dataDir, 'logs', `${p}.log`), 'utf8'));
    assert.ok(!logs.join('\n').includes(secrets.shopOperatorToken!), 'the operator token is in a log');
  });
});
