// The shop's login against hostile clients, over real HTTP to a listening shop on both engines: the
// return target after login and register stays on the shop (judged after normalisation), and the
// failed-login limits per account and per address hold under simultaneous attempts — on one node and,
// on PostgreSQL, across two nodes sharing the database — whatever X-Forwarded-For the client makes up.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fakeClock } from '../src/platform/clock.ts';
import { ConfigError } from '../src/platform/config.ts';
import type { Database } from '../src/platform/db/database.ts';
import { databaseUrl, freshDatabase, freshPostgresDatabaseName, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO } from './support/factories.ts';

const WINDOW_SECONDS = 900;
const env = (extra: Record<string, string> = {}) => ({
  SHOP_PORT: '0',
  SHOP_HOST: '127.0.0.1',
  SHOP_SESSION_SECRET: 'login-limits-secret-'.padEnd(48, 'x'),
  LOG_LEVEL: 'silent',
  SHOP_LOGIN_MAX_FAILURES: '5',
  SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS: '20',
  SHOP_LOGIN_WINDOW_SECONDS: String(WINDOW_SECONDS),
  ...extra,
});

/** A browser talking to a listening shop over real HTTP (redirects are not followed: we read them). */
function browser(url: string, forwardedFor?: string): ShopClient {
  return new ShopClient(
    { request: (path, init) => fetch(`${url}${path}`, { ...init, redirect: 'manual' }) },
    forwardedFor,
  );
}

/** Fires all attempts at once from one browser; returns each response's status, in sending order. */
async function burst(
  client: ShopClient,
  attempts: ReadonlyArray<{ email: string; password: string; forwardedFor?: string }>,
): Promise<number[]> {
  const csrf = await client.csrf();
  const responses = await Promise.all(
    attempts.map((a) =>
      client.send('/login', {
        form: { email: a.email, password: a.password },
        csrf,
        ...(a.forwardedFor ? { headers: { 'x-forwarded-for': a.forwardedFor } } : {}),
      }),
    ),
  );
  return Promise.all(responses.map(async (r) => (await r.arrayBuffer(), r.status)));
}

const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

let accountSeq = 0;
async function newAccount(url: string): Promise<{ email: string; password: string }> {
  const account = { email: `limit-${Date.now()}-${accountSeq++}@shop.test`, password: 'the-right-password' };
  const res = await browser(url).send('/register', { form: { name: 'Limit Tester', ...account } });
  assert.equal(res.status, 303, 'registered');
  return account;
}

// Every one normalises to another host, or is one, or is not a path at all.
const HOSTILE_NEXT = [
  '/.//evil.example/phish',
  '/..//evil.example',
  '/a/..//evil.example',
  '/%2e//evil.example',
  '/%2E%2E//evil.example',
  '/.%2e//evil.example',
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '/\t/evil.example',
  '/\n/evil.example',
  'https://evil.example/',
  'javascript:alert(1)',
  '/javascript:alert(1)/..//evil.example',
  'evil.example',
  '/.//\\evil.example',
];

describe('shop login limits configuration', () => {
  const base = { SHOP_SESSION_SECRET: 'x'.repeat(40) };
  it('defaults to 5 per account and 50 per address in 15 minutes, no proxy trusted', () => {
    const { settings } = loadShopConfig(base);
    assert.deepEqual(settings.login, { maxFailuresPerAccount: 5, maxFailuresPerAddress: 50, windowSeconds: 900 });
    assert.equal(settings.trustedProxyHops, 0);
    assert.ok(Object.isFrozen(settings.login));
  });
  it('reads SHOP_TRUST_PROXY as false, true (one proxy) or a number of proxies', () => {
    for (const [value, hops] of [
      ['false', 0],
      ['0', 0],
      ['true', 1],
      ['1', 1],
      ['2', 2],
    ] as const) {
      assert.equal(loadShopConfig({ ...base, SHOP_TRUST_PROXY: value }).settings.trustedProxyHops, hops, value);
    }
  });
  it('names the variable at fault', () => {
    for (const [name, value] of [
      ['SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS', '0'],
      ['SHOP_LOGIN_MAX_FAILURES', 'many'],
      ['SHOP_LOGIN_WINDOW_SECONDS', '-1'],
      ['SHOP_TRUST_PROXY', 'yes'],
    ] as const) {
      assert.throws(
        () => loadShopConfig({ ...base, [name]: value }),
        (e) => e instanceof ConfigError && e.message.includes(name),
        name,
      );
    }
  });
});

for (const engine of testEngines()) {
  describe(`shop login against a hostile client over real HTTP on ${engine}`, () => {
    const clock = fakeClock(Date.now());
    let database: Database;
    let shop: ServiceHandle;
    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      shop = await startShop(loadShopConfig(env()), { database, clock, jobs: false });
    });
    after(async () => {
      await shop?.stop();
    });
    // Each case starts with an empty window: earlier cases' failures have aged out.
    beforeEach(() => clock.advance((WINDOW_SECONDS + 1) * 1000));

    it('answers 303 to a path on the shop itself, never to another host, after login and after register', async () => {
      const ok = await browser(shop.url).login(...DEMO.customer, '/orders?tab=open');
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.get('location'), '/orders?tab=open');
      for (const next of HOSTILE_NEXT) {
        const page = await (await fetch(`${shop.url}/login?next=${encodeURIComponent(next)}`)).text();
        assert.match(page, /action="\/login\?next=%2F"/, `the login form carries only "/" for ${JSON.stringify(next)}`);
        const res = await browser(shop.url).login(...DEMO.customer, next);
        assert.equal(res.status, 303, JSON.stringify(next));
        assert.equal(res.headers.get('location'), '/', `login with next=${JSON.stringify(next)}`);
      }
      for (const next of HOSTILE_NEXT.slice(0, 6)) {
        const email = `redirect-${Date.now()}-${accountSeq++}@shop.test`;
        const res = await browser(shop.url).send(`/register?next=${encodeURIComponent(next)}`, {
          form: { name: 'R', email, password: 'a-long-enough-password' },
        });
        assert.equal(res.status, 303, JSON.stringify(next));
        assert.equal(res.headers.get('location'), '/', `register with next=${JSON.stringify(next)}`);
      }
    });

    it('checks at most 5 of 30 simultaneous attempts on one account, so the right password sent last does not get in', async () => {
      const account = await newAccount(shop.url);
      const attempts = [
        ...Array.from({ length: 29 }, (_, i) => ({ email: account.email, password: `guess-${i}` })),
        account,
      ];
      const statuses = await burst(browser(shop.url), attempts);
      const t = tally(statuses);
      assert.equal((t[401] ?? 0) + (t[303] ?? 0), 5, `exactly the limit checked: ${JSON.stringify(t)}`);
      assert.equal(t[429], 25, JSON.stringify(t));
      assert.equal(statuses[29], 429, 'the right password, sent last, is refused unchecked');
      assert.equal(
        (await browser(shop.url).login(account.email, account.password)).status,
        429,
        'and afterwards, from anywhere',
      );
    });

    it('checks at most 5 of 100 simultaneous wrong passwords', async () => {
      const account = await newAccount(shop.url);
      const t = tally(
        await burst(
          browser(shop.url),
          Array.from({ length: 100 }, (_, i) => ({ email: account.email, password: `guess-${i}` })),
        ),
      );
      assert.deepEqual(t, { 401: 5, 429: 95 });
    });

    it('checks at most 20 of 60 simultaneous attempts from one address on 60 accounts, whatever X-Forwarded-For says, and staff see it', async () => {
      const staff = browser(shop.url);
      assert.equal((await staff.login(...DEMO.staff)).status, 303);
      const attempts = Array.from({ length: 60 }, (_, i) => ({
        email: `nobody-${i}@shop.test`,
        password: 'wrong',
        forwardedFor: `192.0.2.${i}`,
      }));
      const t = tally(await burst(browser(shop.url), attempts));
      assert.deepEqual(t, { 401: 20, 429: 40 });
      const refused = await browser(shop.url, '198.51.100.1').login(...DEMO.customer);
      assert.equal(refused.status, 429, 'a right password from the blocked address is refused too');
      assert.match(await refused.text(), /Too many failed attempts from your network/);
      const console = await (await staff.send('/staff')).text();
      assert.match(console, /At most 5 failed logins per account and 20 per address within\s+15 minutes/);
      assert.match(console, /data-testid="blocked-accounts">0</);
      assert.match(console, /data-testid="blocked-addresses">1</);
    });

    it('behind a trusted proxy, counts the address the proxy wrote, not the ones the client made up', async () => {
      // A second shop on the same database; the first one closes it.
      const proxied = await startShop(loadShopConfig(env({ SHOP_TRUST_PROXY: '1' })), {
        database: { ...database, close: async () => undefined },
        clock,
        jobs: false,
      });
      try {
        const attempts = Array.from({ length: 30 }, (_, i) => ({
          email: `nobody-${i}@shop.test`,
          password: 'wrong',
          forwardedFor: `10.9.${i}.1, 198.51.100.77`,
        }));
        assert.deepEqual(tally(await burst(browser(proxied.url), attempts)), { 401: 20, 429: 10 });
        assert.equal((await browser(proxied.url, '198.51.100.77').login(...DEMO.customer)).status, 429);
        assert.equal(
          (await browser(proxied.url, '198.51.100.78').login(...DEMO.customer)).status,
          303,
          'another client behind the proxy',
        );
      } finally {
        await proxied.stop();
      }
    });
  });
}

describe('shop login limits across two nodes sharing one PostgreSQL', () => {
  const clock = fakeClock(Date.now());
  const nodes: ServiceHandle[] = [];
  before(async () => {
    const url = databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec));
    for (let i = 0; i < 2; i++)
      nodes.push(await startShop(loadShopConfig(env({ SHOP_DATABASE_URL: url })), { clock, jobs: false }));
  });
  after(async () => {
    for (const node of nodes) await node.stop();
  });

  it('checks at most 5 of 40 simultaneous attempts on one account split over both nodes', async () => {
    const account = await newAccount(nodes[0]!.url);
    const [a, b] = [browser(nodes[0]!.url), browser(nodes[1]!.url)];
    const [csrfA, csrfB] = [await a.csrf(), await b.csrf()];
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? b : a).send('/login', {
          form: { email: account.email, password: i === 39 ? account.password : `guess-${i}` },
          csrf: i % 2 ? csrfB : csrfA,
        }),
      ),
    );
    const t = tally(responses.map((r) => r.status));
    assert.equal((t[401] ?? 0) + (t[303] ?? 0), 5, JSON.stringify(t));
    assert.equal(t[429], 35, JSON.stringify(t));
  });
});
