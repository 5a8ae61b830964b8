// Proof suite "verifier" (issue 8, item 1): Standard Webhooks conformance of the pure verifier
// (src/core/webhook-signature.ts) and of the shop's real webhook intake over HTTP (a started shop on
// its own PostgreSQL database). One table of deliveries — the published test vector, every missing
// header, bare/partial/unknown-version signatures, wrong and foreign keys, re-serialised bodies,
// timestamps one second outside the tolerance either way and exactly at it, non-numeric timestamps,
// rotation and retirement — is judged by both: the pure verifier must throw the expected code, the
// shop must answer 400/401 with `{error:{code,message}}`, count exactly one refusal under that code
// (no receipt: unverified deliveries are counted, not stored) and change nothing else in its database. Positives are accepted exactly once (a redelivery is a duplicate).
// Seeded random mutations of a valid delivery (one byte of body, id, timestamp or signature) scale
// the suite under `npm run proof`.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { isDomainError, type ErrorCode } from '../src/core/errors.ts';
import { STANDARD_WEBHOOKS_VECTOR as VECTOR } from '../src/core/testing.ts';
import { newWebhookSecret, signWebhook, verifyWebhook } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { webhookRefusals } from '../src/shop/storage/tables.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { auditLog, invoices } from '../src/shop/storage/tables.ts';
import {
  proofRandom,
  proofSeed,
  recordProof,
  replayHint,
  sized,
  proofSize,
  type ProofFailure,
} from './support/proof.ts';
import { assertUnchanged, snapshotter, type Snapshotter } from './support/harness/snapshot.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO, checkoutForm } from './support/factories.ts';

const SUITE = 'verifier';
const seed = proofSeed();
const random = proofRandom(seed);
const hint = replayHint(SUITE, seed);
const TOLERANCE = 300;
/** The bounded record a refused delivery may grow (src/shop/payments/webhook-refusals.ts). */
const REFUSAL_RECORD = ['webhook_refusals', 'webhook_refusal_samples', 'webhook_refusal_sources'];

// ---- the delivery table -------------------------------------------------------------------------

/** What a case is built from: a message that, signed with `key`, the receiver accepts at `now`. */
interface Subject {
  readonly id: string;
  readonly body: string;
  readonly now: Date;
  /** The receiver's current key. */
  readonly key: string;
}

interface Delivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}

interface NegativeCase {
  readonly name: string;
  /** The verifier's error code, which the shop answers with. */
  readonly code: ErrorCode;
  readonly status: 400 | 401;
  /** Null when the subject admits no such variant (e.g. key order of a one-key body). */
  make(s: Subject): Delivery | null;
}

/** A `v1,` signature over any timestamp text (signWebhook only takes dates). */
function v1(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

function signed(
  s: Subject,
  o: { secret?: string; id?: string; timestamp?: string; body?: string; signedBody?: string } = {},
): Delivery {
  const id = o.id ?? s.id;
  const timestamp = o.timestamp ?? String(seconds(s.now));
  const body = o.body ?? s.body;
  return {
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': v1(o.secret ?? s.key, id, timestamp, o.signedBody ?? body),
    },
    body,
  };
}

function withHeaders(d: Delivery, change: Record<string, string | undefined>): Delivery {
  const headers = { ...d.headers };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return { headers, body: d.body };
}

/** Same JSON, other bytes: `null` when the variant happens to equal the original. */
function reserialised(
  body: string,
  how: 'whitespace' | 'compact' | 'key order' | 'unicode escape' | 'trailing newline',
): string | null {
  const value = JSON.parse(body) as Record<string, unknown>;
  let out: string;
  if (how === 'whitespace') out = JSON.stringify(value, null, 2);
  else if (how === 'compact') out = JSON.stringify(value);
  else if (how === 'key order') out = JSON.stringify(Object.fromEntries(Object.entries(value).reverse()));
  else if (how === 'trailing newline') out = `${body}\n`;
  else {
    // The first ASCII letter inside a string written as \u00XX: JSON.parse gives the same value.
    out = body.replace(
      /"([^"\\]*?)([a-z])/,
      (_m, pre: string, ch: string) => `"${pre}\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (out === body) return null;
  assert.deepEqual(JSON.parse(out), value, `${how} keeps the same JSON`);
  return out;
}

const OTHER_ENDPOINT_KEY = newWebhookSecret(); // the key of another merchant's endpoint at the gateway
const WRONG_KEY = newWebhookSecret();

const negatives: NegativeCase[] = [
  ...(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const).flatMap((h): NegativeCase[] => [
    {
      name: `missing ${h}`,
      code: 'webhook.headers_missing',
      status: 400,
      make: (s) => withHeaders(signed(s), { [h]: undefined }),
    },
    {
      name: `empty ${h}`,
      code: 'webhook.headers_missing',
      status: 400,
      make: (s) => withHeaders(signed(s), { [h]: '' }),
    },
  ]),
  {
    name: 'all three headers missing',
    code: 'webhook.headers_missing',
    status: 400,
    make: (s) => ({ headers: { 'content-type': 'application/json' }, body: s.body }),
  },
  {
    name: 'bare signature (no "v1,")',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => {
      const d = signed(s);
      return withHeaders(d, { 'webhook-signature': d.headers['webhook-signature']!.slice(3) });
    },
  },
  {
    name: 'signature truncated to half',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => {
      const d = signed(s);
      return withHeaders(d, { 'webhook-signature': d.headers['webhook-signature']!.slice(0, 25) });
    },
  },
  {
    name: 'signature truncated by one character',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => {
      const d = signed(s);
      return withHeaders(d, { 'webhook-signature': d.headers['webhook-signature']!.slice(0, -1) });
    },
  },
  {
    name: 'signature of only the version ("v1,")',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => withHeaders(signed(s), { 'webhook-signature': 'v1,' }),
  },
  {
    name: 'signature with padding replaced (lenient base64 would decode it)',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => {
      const d = signed(s);
      return withHeaders(d, { 'webhook-signature': d.headers['webhook-signature']!.replace(/=$/, '!') });
    },
  },
  {
    name: 'unknown version ("v2,")',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => {
      const d = signed(s);
      return withHeaders(d, { 'webhook-signature': d.headers['webhook-signature']!.replace(/^v1,/, 'v2,') });
    },
  },
  {
    name: 'unknown version ("v1a,")',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => {
      const d = signed(s);
      return withHeaders(d, { 'webhook-signature': d.headers['webhook-signature']!.replace(/^v1,/, 'v1a,') });
    },
  },
  { name: 'wrong key', code: 'webhook.signature_invalid', status: 401, make: (s) => signed(s, { secret: WRONG_KEY }) },
  {
    name: "another endpoint's key",
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => signed(s, { secret: OTHER_ENDPOINT_KEY }),
  },
  {
    name: 'key without its whsec_ prefix decoded as text',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => ({
      ...signed(s),
      headers: {
        ...signed(s).headers,
        'webhook-signature': `v1,${createHmac('sha256', s.key)
          .update(`${s.id}.${seconds(s.now)}.${s.body}`)
          .digest('base64')}`,
      },
    }),
  },
  {
    name: 'signature made for another webhook-id',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => withHeaders(signed(s), { 'webhook-id': `${s.id}x` }),
  },
  {
    name: 'timestamp changed after signing',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => withHeaders(signed(s), { 'webhook-timestamp': String(seconds(s.now) - 1) }),
  },
  ...(['whitespace', 'compact', 'key order', 'unicode escape', 'trailing newline'] as const).map(
    (how): NegativeCase => ({
      name: `body re-serialised (${how})`,
      code: 'webhook.signature_invalid',
      status: 401,
      make: (s) => {
        const body = reserialised(s.body, how);
        return body === null ? null : signed(s, { body, signedBody: s.body });
      },
    }),
  ),
  {
    name: 'body with one value changed',
    code: 'webhook.signature_invalid',
    status: 401,
    make: (s) => signed(s, { body: s.body.replace(/\d/, (d) => String((Number(d) + 1) % 10)), signedBody: s.body }),
  },
  {
    name: 'timestamp 301 s old (one second past the tolerance)',
    code: 'webhook.timestamp_out_of_tolerance',
    status: 401,
    make: (s) => signed(s, { timestamp: String(seconds(s.now) - TOLERANCE - 1) }),
  },
  {
    name: 'timestamp 301 s in the future',
    code: 'webhook.timestamp_out_of_tolerance',
    status: 401,
    make: (s) => signed(s, { timestamp: String(seconds(s.now) + TOLERANCE + 1) }),
  },
  {
    name: 'timestamp a day old (replay)',
    code: 'webhook.timestamp_out_of_tolerance',
    status: 401,
    make: (s) => signed(s, { timestamp: String(seconds(s.now) - 86_400) }),
  },
  // Header-safe text only (fetch trims surrounding whitespace and refuses non-Latin-1 header values).
  ...[
    'abc',
    'NOW',
    '1e9',
    '-1',
    '+1614265330',
    '0x60379d72',
    '1614265330.0',
    '1614265330abc',
    '1,614,265,330',
    '9'.repeat(20),
  ].map(
    (bad): NegativeCase => ({
      name: `non-numeric timestamp ${JSON.stringify(bad)}`,
      code: 'webhook.timestamp_out_of_tolerance',
      status: 401,
      // Signed over that very text, so only the timestamp check can refuse it.
      make: (s) => signed(s, { timestamp: bad.replace('1614265330', String(seconds(s.now))) }),
    }),
  ),
];

/** Valid deliveries the receiver must accept (secrets = [key, previous] during a rotation). */
interface PositiveCase {
  readonly name: string;
  make(s: Subject, previous: string): Delivery;
}
const positives: PositiveCase[] = [
  { name: 'signed with the current key', make: (s) => signed(s) },
  {
    name: 'exactly 300 s old (at the edge)',
    make: (s) => signed(s, { timestamp: String(seconds(s.now) - TOLERANCE) }),
  },
  {
    name: 'exactly 300 s in the future (at the edge)',
    make: (s) => signed(s, { timestamp: String(seconds(s.now) + TOLERANCE) }),
  },
  { name: 'signed with the previous key during a rotation', make: (s, previous) => signed(s, { secret: previous }) },
  {
    name: 'signed with both keys during a rotation, after an unknown version',
    make: (s, previous) => {
      const d = signed(s);
      return withHeaders(d, {
        'webhook-signature': `v2,${'A'.repeat(43)}= ${signed(s, { secret: previous }).headers['webhook-signature']} ${d.headers['webhook-signature']}`,
      });
    },
  },
];

/** One byte of the body, id, timestamp or signature changed at a seeded position. */
function mutation(s: Subject, r: ReturnType<typeof proofRandom>): { label: string; delivery: Delivery } {
  const d = signed(s);
  const field = r.pick(['body', 'webhook-id', 'webhook-timestamp', 'webhook-signature'] as const);
  const text = field === 'body' ? d.body : d.headers[field]!;
  const at = field === 'webhook-signature' ? 3 + r.int(text.length - 3) : r.int(text.length);
  const alphabet =
    field === 'webhook-timestamp' ? '0123456789' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let ch = text[at]!;
  while (ch === text[at]) ch = r.pick([...alphabet]);
  const changed = text.slice(0, at) + ch + text.slice(at + 1);
  const label = `${field}[${at}] ${JSON.stringify(text[at])}→${JSON.stringify(ch)}`;
  return {
    label,
    delivery: field === 'body' ? { headers: d.headers, body: changed } : withHeaders(d, { [field]: changed }),
  };
}

// ---- the figures ----------------------------------------------------------------------------------

const figures = { pureCases: 0, httpCases: 0, positives: 0, negatives: 0, mutations: 0 };
let wronglyAccepted = 0;
let wronglyRefused = 0;
const failures: ProofFailure[] = [];
function fail(name: string, detail: string): void {
  failures.push({ case: name, detail });
}

/** The pure verifier's verdict: 'accepted' or the error code. */
function pure(d: Delivery, secrets: readonly string[], now: Date): string {
  try {
    verifyWebhook({ headers: d.headers, body: d.body, secrets, now, toleranceSeconds: TOLERANCE });
    return 'accepted';
  } catch (err) {
    if (isDomainError(err)) return err.code;
    throw err;
  }
}

after(() => {
  recordProof({
    suite: SUITE,
    size: proofSize(),
    seed,
    cases: figures.pureCases + figures.httpCases,
    wronglyAccepted,
    lost: 0,
    doubleFulfilled: 0,
    recovered: 0,
    failures,
    figures: { ...figures, wronglyRefused },
  });
});

describe('proof: webhook verifier conformance (pure verifier)', () => {
  const vector: Subject = {
    id: VECTOR.id,
    body: VECTOR.body,
    now: new Date(VECTOR.timestamp * 1000),
    key: VECTOR.secret,
  };

  it('accepts the published Standard Webhooks vector and signs it to the published signature', () => {
    figures.pureCases += 2;
    figures.positives += 2;
    const headers = {
      'webhook-id': VECTOR.id,
      'webhook-timestamp': String(VECTOR.timestamp),
      'webhook-signature': VECTOR.signature,
    };
    assert.equal(pure({ headers, body: VECTOR.body }, [VECTOR.secret], vector.now), 'accepted', hint);
    assert.equal(
      signed(vector).headers['webhook-signature'],
      VECTOR.signature,
      `our test signer agrees with the vector; ${hint}`,
    );
    assert.equal(
      signWebhook({ id: VECTOR.id, timestamp: vector.now, body: VECTOR.body, secrets: [VECTOR.secret] })[
        'webhook-signature'
      ],
      VECTOR.signature,
      hint,
    );
  });

  it('refuses every negative case built on the vector, each with its own error code', () => {
    let tried = 0;
    for (const c of negatives) {
      const d = c.make(vector);
      if (d === null) continue;
      tried++;
      figures.pureCases++;
      figures.negatives++;
      const verdict = pure(d, [VECTOR.secret], vector.now);
      if (verdict === 'accepted') {
        wronglyAccepted++;
        fail(`pure vector: ${c.name}`, 'accepted');
      }
      assert.equal(verdict, c.code, `${c.name}; ${hint}`);
    }
    assert.ok(
      tried >= negatives.length - 1,
      `only the key-order variant is impossible on a one-key body (${tried}/${negatives.length})`,
    );
  });

  it('accepts the vector with its key among two during a rotation, and refuses it after that key is retired', () => {
    const next = newWebhookSecret();
    const d = signed(vector);
    figures.pureCases += 3;
    figures.positives += 2;
    figures.negatives += 1;
    assert.equal(pure(d, [next, VECTOR.secret], vector.now), 'accepted', hint);
    assert.equal(pure(signed(vector, { secret: next }), [next, VECTOR.secret], vector.now), 'accepted', hint);
    const retired = pure(d, [next], vector.now);
    if (retired === 'accepted') wronglyAccepted++;
    assert.equal(retired, 'webhook.signature_invalid', `retired key; ${hint}`);
  });

  it('accepts the vector exactly at the tolerance edges and refuses it one second beyond either', () => {
    const t = VECTOR.timestamp;
    const d = signed(vector);
    const cases: [number, string][] = [
      [t + TOLERANCE, 'accepted'],
      [t - TOLERANCE, 'accepted'],
      [t + TOLERANCE + 1, 'webhook.timestamp_out_of_tolerance'],
      [t - TOLERANCE - 1, 'webhook.timestamp_out_of_tolerance'],
    ];
    for (const [now, expected] of cases) {
      figures.pureCases++;
      const verdict = pure(d, [VECTOR.secret], new Date(now * 1000));
      if (expected !== 'accepted' && verdict === 'accepted') wronglyAccepted++;
      assert.equal(verdict, expected, `now = vector + ${now - t} s; ${hint}`);
    }
  });

  it('refuses seeded one-byte mutations of a valid delivery', () => {
    const r = random.fork('pure-mutations');
    const n = sized(300, 20_000);
    for (let i = 0; i < n; i++) {
      const { label, delivery } = mutation(vector, r);
      figures.pureCases++;
      figures.mutations++;
      const verdict = pure(delivery, [VECTOR.secret], vector.now);
      if (verdict === 'accepted') {
        wronglyAccepted++;
        fail(`pure mutation ${i}`, label);
      }
    }
    assert.equal(wronglyAccepted, 0, `mutations accepted: ${JSON.stringify(failures)}; ${hint}`);
  });
});

describe('proof: webhook verifier conformance (the shop intake over HTTP, PostgreSQL)', () => {
  const clock = fakeClock(Date.now());
  const gateway = new FakeGateway();
  const current = newWebhookSecret();
  const previous = newWebhookSecret();
  let dbUrl = '';
  let shop: ServiceHandle | undefined;
  let client: ShopClient;
  let snap: Snapshotter;
  let productId = '';
  let deliveryId = '';

  const env = (secrets: string[]) => ({
    SHOP_PORT: '0',
    SHOP_SESSION_SECRET: 'proof-verifier-session-secret-'.padEnd(48, 'x'),
    LOG_LEVEL: 'silent',
    SHOP_TRUST_PROXY: 'true',
    SHOP_DATABASE_URL: dbUrl,
    SHOP_GATEWAY_WEBHOOK_SECRETS: secrets.join(','),
    // Every negative case comes from this one address; the per-address limit has its own proof (adversarial-intake).
    SHOP_WEBHOOK_REFUSALS_PER_MINUTE: '1000000',
  });
  const start = async (secrets: string[]) => {
    shop = await startShop(loadShopConfig(env(secrets)), { clock, gateway, jobs: false });
    client = new ShopClient(
      { request: (path, init) => fetch(`${shop!.url}${path}`, { ...init, redirect: 'manual' }) },
      '198.51.100.77',
    );
    assert.equal((await client.login(...DEMO.customer)).status, 303);
  };

  before(async () => {
    dbUrl = databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec));
    await start([current, previous]);
    productId = (await listProducts(shop!.database.db))[0]!.id;
    deliveryId = (await listDeliveryMethods(shop!.database.db))[0]!.id;
    // A refused delivery grows only the bounded refusal record (counter, sample, address slot); every
    // case asserts that exactly one refusal was counted under its code. Receipts are excluded for the
    // positives (a redelivery adds its 'duplicate' receipt) and asserted unchanged by every negative.
    snap = await snapshotter(dbUrl, { exclude: ['webhook_receipts', ...REFUSAL_RECORD] });
  });
  after(async () => {
    await snap?.close();
    await shop?.stop();
  });

  /** Buys one product and presses "Pay now": the invoice and its session's payment.authorized event. */
  async function authorizedEvent() {
    await client.emptyCart();
    const cartId = await checkoutForm(client, { lines: [{ productId, quantity: 1 }], deliveryMethodId: deliveryId });
    const res = await client.send('/checkout/pay', { form: { cartId } });
    assert.equal(res.status, 303);
    const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')?.[1];
    assert.ok(sessionId, `redirected to the hosted page, got ${res.headers.get('location')}`);
    const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
    const event = gateway.move(sessionId, 'authorized');
    const subject: Subject = { id: event.id, body: JSON.stringify(event), now: clock.now(), key: current };
    return { invoiceId, subject };
  }

  const post = (d: Delivery) =>
    fetch(`${shop!.url}/webhooks/gateway`, { method: 'POST', headers: d.headers, body: d.body });
  const invoiceStatus = async (id: string) =>
    (await shop!.database.db.select().from(invoices).where(eq(invoices.id, id)))[0]!.status;
  const payAudits = async (id: string) =>
    (
      await shop!.database.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'invoice.pay'), eq(auditLog.subject, id)))
    ).length;
  const refusalsOf = async (code: string) =>
    Number(
      (
        await shop!.database.db
          .select({ n: sql<number>`coalesce(sum(${webhookRefusals.count}), 0)::int` })
          .from(webhookRefusals)
          .where(eq(webhookRefusals.reason, code))
      )[0]?.n ?? 0,
    );

  /** Sends one negative delivery and checks status, error body, one refusal counted, nothing else changed. */
  async function refused(name: string, d: Delivery, status: number, code: string): Promise<void> {
    figures.httpCases++;
    figures.negatives++;
    const before = await snap.take();
    const receiptsBefore = await snap.count('webhook_receipts');
    const refusalsBefore = await refusalsOf(code);
    const res = await post(d);
    const text = await res.text();
    if (res.ok) {
      wronglyAccepted++;
      fail(`http: ${name}`, `${res.status} ${text}`);
    }
    assert.equal(res.status, status, `${name}: ${text}; ${hint}`);
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    assert.equal(body.error?.code, code, `${name}: error code; ${hint}`);
    assert.ok(
      typeof body.error?.message === 'string' && body.error.message.length > 10,
      `${name}: a readable message, got ${text}; ${hint}`,
    );
    assertUnchanged(before, await snap.take(), `${name}; ${hint}`);
    assert.equal(
      await snap.count('webhook_receipts'),
      receiptsBefore,
      `${name}: no receipt for an unverified delivery; ${hint}`,
    );
    assert.equal(
      await refusalsOf(code),
      refusalsBefore + 1,
      `${name}: exactly one refusal counted under ${code}; ${hint}`,
    );
  }

  /** Sends a valid delivery twice: paid once, the second a duplicate that changes nothing. */
  async function acceptedOnce(name: string, invoiceId: string, d: Delivery): Promise<void> {
    figures.httpCases += 2;
    figures.positives += 2;
    const first = await post(d);
    const firstBody = await first.text();
    if (!first.ok) {
      wronglyRefused++;
      fail(`http: ${name}`, `${first.status} ${firstBody}`);
    }
    assert.equal(first.status, 200, `${name}: ${firstBody}; ${hint}`);
    assert.equal((JSON.parse(firstBody) as { verdict: string }).verdict, 'accepted', `${name}; ${hint}`);
    assert.equal(await invoiceStatus(invoiceId), 'paid', `${name}; ${hint}`);
    const before = await snap.take();
    const again = await post(d);
    assert.equal(again.status, 200, `${name}: the redelivery is acknowledged; ${hint}`);
    assert.equal(((await again.json()) as { verdict: string }).verdict, 'duplicate', `${name}; ${hint}`);
    assertUnchanged(before, await snap.take(), `${name}: a redelivery changes nothing; ${hint}`);
    assert.equal(await payAudits(invoiceId), 1, `${name}: paid exactly once; ${hint}`);
  }

  it('refuses every negative case with 400/401 and a clear error, counts one refusal and changes nothing, then accepts the genuine delivery once', async () => {
    const { invoiceId, subject } = await authorizedEvent();
    let tried = 0;
    for (const c of random.fork('http-order').shuffle(negatives)) {
      const d = c.make(subject);
      if (d === null) continue; // the gateway already sends compact JSON: "compact" is the same bytes
      tried++;
      await refused(c.name, d, c.status, c.code);
    }
    assert.equal(tried, negatives.length - 1, hint);
    assert.equal(
      await invoiceStatus(invoiceId),
      'open',
      `after ${negatives.length} refusals the invoice is untouched; ${hint}`,
    );
    // The event itself was good all along: signed properly, it pays the invoice, once.
    await acceptedOnce('the genuine delivery after the refusals', invoiceId, signed(subject));
  });

  for (const p of positives) {
    it(`accepts exactly once a delivery ${p.name}`, async () => {
      const { invoiceId, subject } = await authorizedEvent();
      await acceptedOnce(p.name, invoiceId, p.make(subject, previous));
    });
  }

  it('refuses seeded one-byte mutations of a valid delivery over HTTP, changing nothing', async () => {
    const { invoiceId, subject } = await authorizedEvent();
    const r = random.fork('http-mutations');
    const n = sized(15, 400);
    for (let i = 0; i < n; i++) {
      const { label, delivery } = mutation(subject, r);
      figures.mutations++;
      // A changed id or timestamp is still a well-formed header: 401; only the signature check refuses it.
      const expected = pure(delivery, [current, previous], clock.now());
      assert.notEqual(expected, 'accepted', `${label}; ${hint}`);
      await refused(`mutation ${label}`, delivery, 401, expected);
    }
    await acceptedOnce('the unmutated delivery', invoiceId, signed(subject));
  });

  it('after the previous key is retired (restart with the current key only), refuses the previous key and accepts the current one', async () => {
    await shop!.stop();
    shop = undefined;
    await start([current]);
    const first = await authorizedEvent();
    await refused('the retired key', signed(first.subject, { secret: previous }), 401, 'webhook.signature_invalid');
    await refused(
      'both signatures but only the retired one valid',
      withHeaders(signed(first.subject, { secret: previous }), {
        'webhook-signature': `${signed(first.subject, { secret: previous }).headers['webhook-signature']} ${signed(first.subject, { secret: WRONG_KEY }).headers['webhook-signature']}`,
      }),
      401,
      'webhook.signature_invalid',
    );
    assert.equal(await invoiceStatus(first.invoiceId), 'open', hint);
    await acceptedOnce('the current key after the retirement', first.invoiceId, signed(first.subject));
  });

  it('accepted no negative and refused no positive', () => {
    assert.equal(wronglyAccepted, 0, `wrongly accepted: ${JSON.stringify(failures)}; ${hint}`);
    assert.equal(wronglyRefused, 0, `wrongly refused: ${JSON.stringify(failures)}; ${hint}`);
  });
});
