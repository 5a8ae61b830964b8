// Proof suite "adversarial", the login part: a hostile client against the shop's login over real
// HTTP, on real PostgreSQL, with two shop nodes sharing the database. It asks the login to send the
// browser elsewhere afterwards (hostile `next` targets, fixed and generated from pieces that
// normalise to another host), and it guesses passwords in simultaneous bursts — many guesses at one
// account split over both nodes with the right password last, and one guess each at many accounts
// from one address while rotating X-Forwarded-For. A case is wrongly accepted when a Location leaves
// the shop, when more passwords were checked than the limit allows, or when the right password sent
// after the limit logged in. Reports as suite 'adversarial' (scripts/proof.mjs sums the suite's files).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fakeClock } from '../src/platform/clock.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import {
  proofRandom,
  proofSeed,
  proofSize,
  recordProof,
  replayHint,
  sized,
  type ProofFailure,
} from './support/proof.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO } from './support/factories.ts';

const SUITE = 'adversarial';
const seed = proofSeed();
const random = proofRandom(seed);
const hint = replayHint(SUITE, seed);

const PER_ACCOUNT = 5;
const PER_ADDRESS = 20;
const WINDOW_SECONDS = 900;

const FIXED_NEXT = [
  '/.//evil.example/phish',
  '/..//evil.example',
  '/a/..//evil.example',
  '/%2e//evil.example',
  '/%2E%2E//evil.example',
  '//evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '/\t/evil.example',
  'https://evil.example/',
  'javascript:alert(1)',
  'HTTP://evil.example',
  '/.//\\evil.example',
];
const PIECES = [
  '/',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2f',
  '%5c',
  '\\',
  '\t',
  'evil.example',
  '@evil.example',
  ':',
  '?',
  '#',
  'javascript:',
];

/** A target made of pieces that parsers like to normalise, starting with a slash (the hard case). */
function generatedNext(): string {
  return `/${Array.from({ length: 1 + random.int(6) }, () => random.pick(PIECES)).join('')}`;
}

/** Whether a Location sends the browser anywhere but a path on the shop. */
function leavesShop(location: string | null, shopUrl: string): boolean {
  if (location === null || !location.startsWith('/') || location.startsWith('//') || location.startsWith('/\\'))
    return true;
  return new URL(location, shopUrl).origin !== new URL(shopUrl).origin;
}

const browser = (url: string, forwardedFor?: string) =>
  new ShopClient({ request: (path, init) => fetch(`${url}${path}`, { ...init, redirect: 'manual' }) }, forwardedFor);

describe("adversarial: a hostile client at the shop's login (two nodes, PostgreSQL, real HTTP)", () => {
  const clock = fakeClock(Date.now());
  const nodes: ServiceHandle[] = [];
  let cases = 0;
  let wronglyAccepted = 0;
  const failures: ProofFailure[] = [];
  const figures = { redirectTargets: 0, bursts: 0, attempts: 0, checkedBeyondLimit: 0 };
  const wrong = (name: string, detail: string) => {
    wronglyAccepted++;
    failures.push({ case: name, detail });
  };

  before(async () => {
    const url = databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec));
    const env = {
      SHOP_PORT: '0',
      SHOP_HOST: '127.0.0.1',
      SHOP_SESSION_SECRET: 'proof-login-secret-'.padEnd(48, 'x'),
      LOG_LEVEL: 'silent',
      SHOP_DATABASE_URL: url,
      SHOP_LOGIN_MAX_FAILURES: String(PER_ACCOUNT),
      SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS: String(PER_ADDRESS),
      SHOP_LOGIN_WINDOW_SECONDS: String(WINDOW_SECONDS),
    };
    for (let i = 0; i < 2; i++) nodes.push(await startShop(loadShopConfig(env), { clock, jobs: false }));
  });
  after(async () => {
    for (const node of nodes) await node.stop();
    recordProof({
      suite: SUITE,
      size: proofSize(),
      seed,
      cases,
      wronglyAccepted,
      lost: 0,
      doubleFulfilled: 0,
      recovered: 0,
      failures,
      figures: { cases, ...figures },
    });
  });

  it('sends the browser only to paths on the shop after login and register, whatever `next` says', async () => {
    const targets = [...FIXED_NEXT, ...Array.from({ length: sized(40, 400) }, generatedNext)];
    for (const [i, next] of targets.entries()) {
      cases++;
      figures.redirectTargets++;
      const node = nodes[i % 2]!;
      const register = i % 10 === 0;
      const res = register
        ? await browser(node.url).send(`/register?next=${encodeURIComponent(next)}`, {
            form: { name: 'P', email: `proof-${seed}-${i}@shop.test`, password: 'a-long-enough-password' },
          })
        : await browser(node.url).login(...DEMO.customer, next);
      if (res.status !== 303 || leavesShop(res.headers.get('location'), node.url))
        wrong(
          `${register ? 'register' : 'login'} next=${JSON.stringify(next)}`,
          `${res.status} Location: ${res.headers.get('location')}`,
        );
    }
  });

  it('checks at most the limit of simultaneous guesses at one account, split over both nodes', async () => {
    for (let round = 0; round < sized(3, 20); round++) {
      clock.advance((WINDOW_SECONDS + 1) * 1000);
      cases++;
      figures.bursts++;
      const account = { email: `burst-${seed}-${round}@shop.test`, password: 'the-right-password' };
      assert.equal((await browser(nodes[0]!.url).send('/register', { form: { name: 'B', ...account } })).status, 303);
      const size = sized(30, 100);
      const clients = nodes.map((n) => browser(n.url, `203.0.113.${round}`));
      const tokens = await Promise.all(clients.map((c) => c.csrf()));
      const responses = await Promise.all(
        Array.from({ length: size }, (_, i) =>
          clients[i % 2]!.send('/login', {
            form: { email: account.email, password: i === size - 1 ? account.password : `guess-${i}` },
            csrf: tokens[i % 2]!,
          }),
        ),
      );
      figures.attempts += size;
      const checked = responses.filter((r) => r.status === 401 || r.status === 303).length;
      if (checked > PER_ACCOUNT) {
        figures.checkedBeyondLimit += checked - PER_ACCOUNT;
        wrong(`burst ${round}: ${size} guesses at one account`, `${checked} passwords checked, limit ${PER_ACCOUNT}`);
      }
      const later = await browser(nodes[1]!.url).login(account.email, account.password);
      if (later.status !== 429) wrong(`burst ${round}: the right password after the limit`, `answered ${later.status}`);
    }
  });

  it('checks at most the address limit of simultaneous guesses at many accounts from one address, whatever X-Forwarded-For says', async () => {
    for (let round = 0; round < sized(2, 10); round++) {
      clock.advance((WINDOW_SECONDS + 1) * 1000);
      cases++;
      figures.bursts++;
      const size = sized(60, 150);
      const client = browser(nodes[round % 2]!.url);
      const csrf = await client.csrf();
      const responses = await Promise.all(
        Array.from({ length: size }, (_, i) =>
          client.send('/login', {
            form: { email: `spray-${round}-${i}@shop.test`, password: 'wrong' },
            csrf,
            headers: {
              'x-forwarded-for': `${random.int(224)}.${random.int(256)}.${random.int(256)}.${random.int(256)}`,
            },
          }),
        ),
      );
      figures.attempts += size;
      const checked = responses.filter((r) => r.status === 401).length;
      if (checked > PER_ADDRESS) {
        figures.checkedBeyondLimit += checked - PER_ADDRESS;
        wrong(
          `spray ${round}: ${size} accounts from one address`,
          `${checked} passwords checked, limit ${PER_ADDRESS}`,
        );
      }
    }
  });

  it('the report: none wrongly accepted', () => {
    assert.ok(cases >= 20, `only ${cases} cases`);
    assert.equal(
      wronglyAccepted,
      0,
      `${wronglyAccepted} wrongly accepted: ${JSON.stringify(failures.slice(0, 10))} (${hint})`,
    );
  });
});
