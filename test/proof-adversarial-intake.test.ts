// Proof suite "adversarial", the webhook intake under a flood: strangers post hundreds of unsigned,
// forged and stale deliveries to the shop's POST /webhooks/gateway, from many addresses and from one
// address sharing the gateway's. Against the real shop over HTTP on PostgreSQL (the clock is the only
// fake): the refused deliveries leave a bounded record (an exact number of rows whatever the volume),
// every genuine delivery stays on /staff/payments with the refusals counted apart, one address past
// its limit gets 429 with no write, and a correctly signed delivery from that very address is still
// accepted. Reports as suite 'adversarial' (scripts/proof.mjs sums the reports of the suite's files).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { newWebhookSecret, signWebhook } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import { rows } from '../src/platform/db/database.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { ACCOUNTS_PRUNE_TASK, loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { MAX_RECEIPTS_PER_EVENT } from '../src/shop/commands/apply-gateway-event.ts';
import { FakeGateway, signedDelivery } from '../src/shop/adapters/gateway.fake.ts';
import { addressSlot, pruneRefusals, REFUSAL_PRUNE_TASK } from '../src/shop/storage/webhook-refusals.ts';
import { pruneAccountRecords } from '../src/shop/storage/accounts.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { invoices } from '../src/shop/storage/tables.ts';
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
import { DEMO, checkoutForm } from './support/factories.ts';

const SUITE = 'adversarial';
const seed = proofSeed();
const random = proofRandom(seed);
const hint = replayHint(SUITE, seed);

const LIMIT = 10;
const SAMPLES = 3;
const RETENTION_HOURS = 24;
const FLOOD = sized(300, 3000);
const REPLAYS = 50;
const LOGIN_LIMIT = 20;
const LOGIN_FLOOD = sized(250, 1000);
/** The three ways a stranger's delivery fails: no headers, a made-up signature, a stale timestamp. */
const KINDS = [
  { reason: 'webhook.headers_missing', status: 400 },
  { reason: 'webhook.signature_invalid', status: 401 },
  { reason: 'webhook.timestamp_out_of_tolerance', status: 401 },
] as const;

describe('adversarial: a flood of unverifiable webhook deliveries stays bounded and never hides genuine ones', () => {
  // Mid-minute and mid-hour, so that the whole flood falls in one rate-limit minute and one bucket.
  const clock = fakeClock(Date.UTC(2026, 5, 1, 10, 20, 30));
  const gateway = new FakeGateway();
  const secret = newWebhookSecret();
  let dbUrl = '';
  let shop: ServiceHandle;
  let customer: ShopClient;
  let staff: ShopClient;
  let productId = '';
  let deliveryId = '';
  let cases = 0;
  let wronglyAccepted = 0;
  const failures: ProofFailure[] = [];
  const genuine: Array<{ eventId: string; invoiceId: string }> = [];

  before(async () => {
    dbUrl = databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec));
    const env = {
      SHOP_PORT: '0',
      SHOP_SESSION_SECRET: 'proof-intake-session-secret-'.padEnd(48, 'x'),
      LOG_LEVEL: 'silent',
      SHOP_TRUST_PROXY: 'true',
      SHOP_DATABASE_URL: dbUrl,
      SHOP_GATEWAY_WEBHOOK_SECRETS: secret,
      SHOP_WEBHOOK_REFUSALS_PER_MINUTE: String(LIMIT),
      SHOP_WEBHOOK_REFUSAL_SAMPLES_PER_HOUR: String(SAMPLES),
      SHOP_WEBHOOK_REFUSAL_RETENTION_HOURS: String(RETENTION_HOURS),
      SHOP_JOB_POLL_MS: '60000',
      SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS: String(LOGIN_LIMIT),
    };
    shop = await startShop(loadShopConfig(env), { clock, gateway });
    const fetcher = {
      request: (path: string, init?: RequestInit) => fetch(`${shop.url}${path}`, { ...init, redirect: 'manual' }),
    };
    customer = new ShopClient(fetcher, '192.0.2.10');
    staff = new ShopClient(fetcher, '192.0.2.11');
    assert.equal((await customer.login(...DEMO.customer)).status, 303);
    assert.equal((await staff.login(...DEMO.staff)).status, 303);
    productId = (await listProducts(shop.database.db))[0]!.id;
    deliveryId = (await listDeliveryMethods(shop.database.db))[0]!.id;
  });
  after(async () => {
    await shop?.stop();
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
      figures: { cases, floodDeliveries: FLOOD, genuineDeliveries: genuine.length },
    });
  });

  const count = async (table: string) =>
    Number((await rows<{ n: number }>(shop.database.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n);
  const refusalCounts = async () =>
    Object.fromEntries(
      (
        await rows<{ reason: string; n: number }>(
          shop.database.db,
          sql`select reason, sum(count)::int as n from webhook_refusals group by reason`,
        )
      ).map((r) => [r.reason, Number(r.n)]),
    );
  const refusalTables = async () => ({
    refusals: await count('webhook_refusals'),
    samples: await count('webhook_refusal_samples'),
    sources: await count('webhook_refusal_sources'),
    counts: await refusalCounts(),
  });
  const post = (from: string, body: string, headers: Record<string, string>) =>
    fetch(`${shop.url}/webhooks/gateway`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from, ...headers },
      body,
    });

  /** A stranger's delivery of one kind: a plausible body naming a real invoice, never correctly signed. */
  async function forged(from: string, kind: (typeof KINDS)[number]) {
    const event = {
      id: `evt_forged${random.int(1e9)}`,
      type: 'payment.authorized',
      data: { merchant_reference: genuine[0]?.invoiceId ?? 'inv_x', amount: { minor: '1', currency: 'EUR' } },
    };
    const body = JSON.stringify(event);
    const stale = new Date(clock.now().getTime() - 3600_000);
    const headers =
      kind.reason === 'webhook.headers_missing'
        ? {}
        : kind.reason === 'webhook.signature_invalid'
          ? signWebhook({ id: event.id, timestamp: clock.now(), body, secrets: [newWebhookSecret()] })
          : signWebhook({ id: event.id, timestamp: stale, body, secrets: [secret] });
    cases++;
    return post(from, body, headers);
  }

  /** Buys one product, presses "Pay now" and delivers the gateway's correctly signed authorisation. */
  async function payGenuinely(from: string) {
    await customer.emptyCart();
    const cartId = await checkoutForm(customer, { lines: [{ productId, quantity: 1 }], deliveryMethodId: deliveryId });
    const sessionId = /\/pay\/(ps_\w+)$/.exec(
      (await customer.send('/checkout/pay', { form: { cartId } })).headers.get('location') ?? '',
    )?.[1];
    assert.ok(sessionId, 'redirected to the hosted page');
    const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
    const event = gateway.move(sessionId, 'authorized');
    const d = signedDelivery(event, [secret], clock.now());
    const res = await post(from, d.body, d.headers);
    assert.equal(res.status, 200, `the genuine delivery from ${from} is acknowledged: ${await res.text()}; ${hint}`);
    const [inv] = await shop.database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
    assert.equal(inv?.status, 'paid', hint);
    genuine.push({ eventId: event.id, invoiceId });
  }

  it(`keeps ${FLOOD} refused deliveries from many addresses as ${KINDS.length} counters and exactly ${KINDS.length * SAMPLES} samples, never a receipt each`, async () => {
    const receiptsBefore = await count('webhook_receipts');
    await payGenuinely('192.0.2.50');
    // Many addresses, each staying under its limit; the flood and genuine deliveries interleave. Each
    // address has a rate-limit slot of its own: two sharing one would be limited together (by design).
    const addresses: string[] = [];
    const slots = new Set<number>([addressSlot('192.0.2.50')]);
    for (let i = 0; addresses.length < Math.ceil(FLOOD / (LIMIT - 1)); i++) {
      const address = `203.0.${113 + Math.floor(i / 250)}.${(i % 250) + 1}`;
      if (!slots.has(addressSlot(address))) slots.add(addressSlot(address)), addresses.push(address);
    }
    for (let start = 0; start < FLOOD; start += 20) {
      const batch = Array.from({ length: Math.min(20, FLOOD - start) }, (_, j) => start + j);
      const answers = await Promise.all(
        batch.map(async (i) => ({
          kind: KINDS[i % KINDS.length]!,
          res: await forged(addresses[i % addresses.length]!, KINDS[i % KINDS.length]!),
        })),
      );
      for (const { kind, res } of answers) {
        const body = (await res.json()) as { error?: { code?: string } };
        if (res.ok) wronglyAccepted++, failures.push({ case: kind.reason, detail: `answered ${res.status}` });
        assert.equal(res.status, kind.status, `${kind.reason}: ${JSON.stringify(body)}; ${hint}`);
        assert.equal(body.error?.code, kind.reason, hint);
      }
      if (start === 100) await payGenuinely('192.0.2.50');
    }
    await payGenuinely('192.0.2.50');

    const t = await refusalTables();
    assert.equal(
      await count('webhook_receipts'),
      receiptsBefore + genuine.length,
      `only the genuine deliveries have receipts; ${hint}`,
    );
    assert.equal(t.refusals, KINDS.length, `one counter row per (hour, reason); ${hint}`);
    assert.equal(
      t.samples,
      KINDS.length * SAMPLES,
      `exactly ${SAMPLES} samples per (hour, reason), however many came at once; ${hint}`,
    );
    assert.equal(t.sources, new Set(addresses.map(addressSlot)).size, `one rate-limit row per address slot; ${hint}`);
    const perKind = (k: number) => Math.floor(FLOOD / KINDS.length) + (k < FLOOD % KINDS.length ? 1 : 0);
    assert.deepEqual(
      t.counts,
      Object.fromEntries(KINDS.map((k, i) => [k.reason, perKind(i)])),
      `every refusal counted; ${hint}`,
    );

    // Staff: every genuine delivery listed, the refusals counted apart, with their samples.
    const html = await (await staff.send('/staff/payments')).text();
    for (const g of genuine)
      assert.match(html, new RegExp(`<td>${g.eventId}</td>`), `genuine ${g.eventId} on the staff page; ${hint}`);
    assert.equal(
      (html.match(/data-testid="webhook-receipt"/g) ?? []).length,
      genuine.length,
      `the receipts list holds the genuine deliveries only; ${hint}`,
    );
    for (const [i, k] of KINDS.entries()) {
      const row = new RegExp(
        `data-reason="${k.reason.replace(/\./g, '\\.')}"><td>[^<]*</td><td class="num">(\\d+)</td>`,
      ).exec(html);
      assert.equal(Number(row?.[1]), perKind(i), `${k.reason} counted on the staff page; ${hint}`);
    }
    assert.equal((html.match(/data-testid="webhook-refusal-sample"/g) ?? []).length, KINDS.length * SAMPLES, hint);
  });

  it('answers 429 past the limit from one address with no write, yet accepts a correctly signed delivery from that address', async () => {
    const sharedAddress = '198.51.100.9'; // say, the gateway's egress, shared with a stranger
    const before = await refusalTables();
    for (let i = 0; i < LIMIT; i++)
      assert.equal((await forged(sharedAddress, KINDS[1])).status, 401, `refusal ${i + 1} of ${LIMIT}; ${hint}`);
    const atLimit = await refusalTables();
    assert.equal(
      atLimit.counts['webhook.signature_invalid'],
      before.counts['webhook.signature_invalid']! + LIMIT,
      hint,
    );
    assert.equal(atLimit.samples, before.samples, `the hour's samples were already taken; ${hint}`);
    const snapshot = JSON.stringify(
      await rows(shop.database.db, sql`select * from webhook_refusal_sources order by slot`),
    );

    for (let i = 0; i < 40; i++) {
      const res = await forged(sharedAddress, KINDS[i % KINDS.length]!);
      if (res.ok) wronglyAccepted++;
      assert.equal(res.status, 429, `past the limit; ${hint}`);
      assert.ok(Number(res.headers.get('retry-after')) >= 1, 'says when to come back');
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'rate_limited');
    }
    assert.deepEqual(await refusalTables(), atLimit, `a limited delivery writes nothing; ${hint}`);
    assert.equal(
      JSON.stringify(await rows(shop.database.db, sql`select * from webhook_refusal_sources order by slot`)),
      snapshot,
      hint,
    );

    await payGenuinely(sharedAddress);
    assert.equal(
      (await forged(sharedAddress, KINDS[0])).status,
      429,
      `a genuine delivery does not lift the stranger's limit; ${hint}`,
    );
    clock.advance(60_000);
    assert.equal(
      (await forged(sharedAddress, KINDS[0])).status,
      400,
      `the next minute the address is heard again; ${hint}`,
    );
    const html = await (await staff.send('/staff/payments')).text();
    for (const g of genuine) assert.match(html, new RegExp(`<td>${g.eventId}</td>`), hint);
  });

  it(`keeps at most ${MAX_RECEIPTS_PER_EVENT} receipts of one genuinely signed delivery replayed ${REPLAYS} times within the tolerance, each answered as a duplicate`, async () => {
    const g = genuine[0]!;
    const [session] = [...gateway.sessions.values()].filter((x) => x.request.invoiceId === g.invoiceId);
    const event = gateway.move(session!.id, 'captured');
    const d = signedDelivery(event, [secret], clock.now());
    for (let i = 0; i <= REPLAYS; i++) {
      const res = await post('203.0.113.250', d.body, d.headers);
      cases++;
      assert.equal(res.status, 200, hint);
      const { verdict } = (await res.json()) as { verdict: string };
      if (i === 0) assert.notEqual(verdict, 'duplicate', hint);
      else assert.equal(verdict, 'duplicate', hint);
    }
    const [kept] = await rows<{ n: number }>(
      shop.database.db,
      sql`select count(*)::int as n from webhook_receipts where event_id = ${event.id}`,
    );
    assert.equal(
      Number(kept!.n),
      MAX_RECEIPTS_PER_EVENT,
      `the first delivery and ${MAX_RECEIPTS_PER_EVENT - 1} copies; ${hint}`,
    );
    genuine.push({ eventId: event.id, invoiceId: g.invoiceId });
  });

  it('keeps failed logins from one address with a new email each time bounded: 429 past the limit, no row more', async () => {
    const stranger = new ShopClient(
      { request: (path: string, init?: RequestInit) => fetch(`${shop.url}${path}`, { ...init, redirect: 'manual' }) },
      '198.51.100.200',
    );
    const before = await count('login_failures');
    const statuses = new Map<number, number>();
    for (let i = 0; i < LOGIN_FLOOD; i++) {
      const res = await stranger.send('/login', {
        form: { email: `guess${i}-${random.int(1e9)}@shop.test`, password: 'not-the-password' },
      });
      cases++;
      if (res.status === 303) wronglyAccepted++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    assert.deepEqual(
      Object.fromEntries(statuses),
      { 401: LOGIN_LIMIT, 429: LOGIN_FLOOD - LOGIN_LIMIT },
      `refused, then limited; ${hint}`,
    );
    assert.equal(
      await count('login_failures'),
      before + 2 * LOGIN_LIMIT,
      `one row per failure and per (address) key up to the limit, none after; ${hint}`,
    );
    // Another address is not affected: the customer logs in again.
    assert.equal((await customer.login(...DEMO.customer)).status, 303, hint);
  });

  it('prunes counters and samples past the retention with the recurring job, and registers that job', async () => {
    const [job] = await rows<{ repeat_seconds: number }>(
      shop.database.db,
      sql`select repeat_seconds from jobs where key = ${`recurring:${REFUSAL_PRUNE_TASK}`}`,
    );
    assert.ok(job && job.repeat_seconds > 0, `the prune job is registered; ${hint}`);
    await pruneRefusals(shop.database.db, clock.now(), {
      perAddressPerMinute: LIMIT,
      samplesPerHour: SAMPLES,
      retentionHours: RETENTION_HOURS,
    });
    assert.equal((await refusalTables()).refusals, KINDS.length, 'within the retention nothing is pruned');
    clock.advance((RETENTION_HOURS + 1) * 3600_000);
    await pruneRefusals(shop.database.db, clock.now(), {
      perAddressPerMinute: LIMIT,
      samplesPerHour: SAMPLES,
      retentionHours: RETENTION_HOURS,
    });
    const t = await refusalTables();
    assert.deepEqual([t.refusals, t.samples, t.sources], [0, 0, 0], `everything past the retention is gone; ${hint}`);
    assert.equal(
      await count('webhook_receipts'),
      genuine.length + MAX_RECEIPTS_PER_EVENT - 1,
      'genuine receipts are kept (one delivery with its kept copies)',
    );
  });

  it('prunes failed logins past their window and expired login sessions with the recurring job', async () => {
    const [job] = await rows<{ repeat_seconds: number }>(
      shop.database.db,
      sql`select repeat_seconds from jobs where key = ${`recurring:${ACCOUNTS_PRUNE_TASK}`}`,
    );
    assert.ok(job && job.repeat_seconds > 0, `the prune job is registered; ${hint}`);
    assert.ok(
      (await count('login_failures')) > 0 && (await count('login_sessions')) > 0,
      'there is something to prune',
    );
    clock.advance(8 * 24 * 3600_000); // past the 15 min window and the 7 day session lifetime
    await pruneAccountRecords(shop.database.db, clock.now(), 15 * 60);
    assert.deepEqual([await count('login_failures'), await count('login_sessions')], [0, 0], hint);
  });
});
