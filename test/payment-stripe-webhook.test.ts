// The shop's Stripe intake without any Stripe server: `POST /webhooks/stripe` verifies the raw bytes
// with the SDK's constructEvent (several secrets while rotating, 300 s tolerance), answers every
// processed event 200 and turns the verdict into a queued call — an accepted authorisation a capture
// job, a refused one (unknown invoice, amount mismatch, expired invoice) a cancel job, both in the
// verdict's transaction. An unsigned, wrongly signed, stale or replayed delivery changes nothing.
// Sessions come from the in-memory gateway behind the port ("Pay now"); only the intake is Stripe's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { jobs } from '../src/platform/jobs/jobs.schema.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { checkoutExpiry } from '../src/shop/adapters/gateway.stripe.ts';
import { CAPTURE_SESSION_TASK, REFUSE_SESSION_TASK } from '../src/shop/commands/verdict-calls.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { verifyStripeWebhook } from '../src/shop/routes/stripe-webhook.routes.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { gatewayEvents, invoices, paymentAttempts } from '../src/shop/storage/tables.ts';
import { checkoutForm, DEMO } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';

const SECRET = 'stripe-intake-test-secret-'.padEnd(48, 'x');
const CURRENT = 'whsec_current_0123456789abcdefghijklmnop';
const PREVIOUS = 'whsec_previous_0123456789abcdefghijklmno';
const STRANGER = 'whsec_stranger_0123456789abcdefghijklmno';

let shopNow = () => new Date();
let seq = 0;
/** A Stripe `checkout.session.completed` event (manual capture: `payment_status` unpaid) as Stripe sends it. */
function completed(sessionId: string, invoiceId: string, amount: number, currency = 'eur', created = 0) {
  seq++;
  return {
    id: `evt_test_${Date.now().toString(36)}${seq}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: created || Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: {
      object: {
        id: sessionId,
        object: 'checkout.session',
        amount_total: amount,
        currency,
        client_reference_id: invoiceId,
        mode: 'payment',
        payment_intent: `pi_test_${seq}`,
        payment_status: 'unpaid',
        status: 'complete',
        url: null,
      },
    },
  };
}

function signed(event: object, secret = CURRENT, at = shopNow()) {
  const body = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    timestamp: Math.floor(at.getTime() / 1000),
  });
  return { body, header };
}

describe('Stripe webhook verification (constructEvent over the raw bytes)', () => {
  const now = new Date();
  const secrets = [CURRENT, PREVIOUS];
  const event = completed('cs_test_v', 'inv_v', 100);

  it('accepts a delivery signed with the current secret, or with the previous one during a rotation', () => {
    for (const secret of secrets) {
      const d = signed(event, secret, now);
      assert.equal(verifyStripeWebhook({ body: Buffer.from(d.body), header: d.header, secrets, now }).id, event.id);
    }
  });

  it('refuses a missing header, another secret, a changed body, a stale or a far-future timestamp', () => {
    const d = signed(event, CURRENT, now);
    const code = (f: () => unknown) => {
      try {
        f();
        return 'accepted';
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    const verify = (body: string, header: string | undefined, at = now) =>
      code(() => verifyStripeWebhook({ body: Buffer.from(body), header, secrets, now: at }));
    assert.equal(verify(d.body, undefined), 'webhook.headers_missing');
    const other = signed(event, STRANGER, now);
    assert.equal(verify(other.body, other.header), 'webhook.signature_invalid');
    assert.equal(
      verify(d.body.replace('"amount_total":100', '"amount_total":1'), d.header),
      'webhook.signature_invalid',
    );
    assert.equal(verify(d.body, d.header, new Date(now.getTime() + 301_000)), 'webhook.timestamp_out_of_tolerance');
    assert.equal(verify(d.body, d.header, new Date(now.getTime() + 299_000)), 'accepted');
    assert.equal(verify(d.body, d.header, new Date(now.getTime() - 301_000)), 'webhook.timestamp_out_of_tolerance');
    assert.equal(
      code(() => verifyStripeWebhook({ body: Buffer.from(d.body), header: d.header, secrets: [], now })),
      'webhook.signature_invalid',
    );
  });

  it("clamps the Checkout Session's expiry to Stripe's window (at least 30 minutes, at most 24 hours)", () => {
    const t = new Date('2026-01-01T00:00:00Z');
    const s = t.getTime() / 1000;
    assert.ok(checkoutExpiry(new Date(t.getTime() + 60_000), t) >= s + 1800);
    assert.equal(checkoutExpiry(new Date(t.getTime() + 3600_000), t), s + 3600);
    assert.ok(checkoutExpiry(new Date(t.getTime() + 48 * 3600_000), t) <= s + 24 * 3600);
  });
});

for (const engine of testEngines()) {
  describe(`shop on Stripe: the webhook intake (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.now());
    const gateway = new FakeGateway();
    let client: ShopClient;
    shopNow = () => clock.now();
    let productId = '';
    let deliveryId = '';

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY: 'stripe',
        SHOP_STRIPE_SECRET_KEY: 'sk_test_unit_0123456789',
        // No Stripe is reachable here: every event in this file needs no API call to be read.
        SHOP_STRIPE_API_URL: 'http://127.0.0.1:9',
        SHOP_STRIPE_WEBHOOK_SECRETS: `${CURRENT},${PREVIOUS}`,
      });
      shop = await startShop(config, { database, clock, gateway, jobs: false });
      productId = (await listProducts(database.db))[0]!.id;
      deliveryId = (await listDeliveryMethods(database.db))[0]!.id;
      client = new ShopClient({ request: (p, init) => shop.app.request(p, init) }, '198.51.100.7');
      assert.equal((await client.login(...DEMO.customer)).status, 303);
    });
    after(async () => {
      await shop?.stop();
    });

    async function payNow() {
      await client.emptyCart();
      const cartId = await checkoutForm(client, { lines: [{ productId, quantity: 1 }], deliveryMethodId: deliveryId });
      const res = await client.send('/checkout/pay', { form: { cartId } });
      const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')?.[1];
      assert.ok(sessionId);
      const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
      const [invoice] = await database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
      return { sessionId, invoice: invoice! };
    }
    const deliver = (d: { body: string; header?: string }) =>
      shop.app.request('/webhooks/stripe', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(d.header ? { 'stripe-signature': d.header } : {}) },
        body: d.body,
      });
    const jobsFor = async (sessionId: string) =>
      (await database.db.select().from(jobs)).filter(
        (j) => (j.payload as { sessionId?: string }).sessionId === sessionId && j.task.startsWith('shop.payment.'),
      );
    const invoiceStatus = async (id: string) =>
      (await database.db.select().from(invoices).where(eq(invoices.id, id)))[0]!.status;

    it('an authorised payment of the invoice is accepted (paid, 200) and its capture queued, never a cancel', async () => {
      const { sessionId, invoice } = await payNow();
      const res = await deliver(signed(completed(sessionId, invoice.id, Number(invoice.amountMinor))));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { received: true, verdict: 'accepted' });
      assert.equal(await invoiceStatus(invoice.id), 'paid');
      const queued = await jobsFor(sessionId);
      assert.deepEqual(
        queued.map((j) => j.task),
        [CAPTURE_SESSION_TASK],
      );
    });

    it('the same delivery replayed (and the same event re-signed later) changes nothing: one event applied, one job', async () => {
      const { sessionId, invoice } = await payNow();
      const event = completed(sessionId, invoice.id, Number(invoice.amountMinor));
      const d = signed(event);
      assert.equal((await deliver(d)).status, 200);
      const again = await deliver(d);
      assert.equal(again.status, 200);
      assert.equal(((await again.json()) as { verdict: string }).verdict, 'duplicate');
      assert.equal(
        ((await (await deliver(signed(event, PREVIOUS))).json()) as { verdict: string }).verdict,
        'duplicate',
      );
      assert.equal(
        (await database.db.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, event.id))).length,
        1,
      );
      assert.equal((await jobsFor(sessionId)).length, 1);
    });

    it('an unsigned, wrongly signed or stale delivery is refused and changes nothing', async () => {
      const { sessionId, invoice } = await payNow();
      const event = completed(sessionId, invoice.id, Number(invoice.amountMinor));
      const body = JSON.stringify(event);
      assert.equal((await deliver({ body })).status, 400);
      assert.equal((await deliver(signed(event, STRANGER))).status, 401);
      assert.equal((await deliver(signed(event, CURRENT, new Date(clock.now().getTime() - 301_000)))).status, 401);
      const forged = signed(event);
      assert.equal((await deliver({ body: body.replace(invoice.id, 'inv_other'), header: forged.header })).status, 401);
      assert.equal(await invoiceStatus(invoice.id), 'open');
      assert.equal(
        (await database.db.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, event.id))).length,
        0,
      );
      assert.equal((await jobsFor(sessionId)).length, 0);
    });

    it('an amount or currency mismatch is refused: answered 200, the invoice stays open, the cancel queued, never a capture', async () => {
      const { sessionId, invoice } = await payNow();
      const res = await deliver(signed(completed(sessionId, invoice.id, Number(invoice.amountMinor) - 1)));
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { verdict: string }).verdict, 'refused');
      const other = await payNow();
      const usd = await deliver(
        signed(completed(other.sessionId, other.invoice.id, Number(other.invoice.amountMinor), 'usd')),
      );
      assert.equal(((await usd.json()) as { verdict: string }).verdict, 'refused');
      for (const x of [invoice, other.invoice]) assert.equal(await invoiceStatus(x.id), 'open');
      for (const s of [sessionId, other.sessionId])
        assert.deepEqual(
          (await jobsFor(s)).map((j) => j.task),
          [REFUSE_SESSION_TASK],
        );
      const [attempt] = await database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      assert.equal(attempt!.status, 'refused');
    });

    it("a payment for an unknown or another shop's invoice is refused and cancelled, never captured", async () => {
      for (const ref of ['inv_01NOTOURS000000000000000000', 'someone-elses-order-42']) {
        const sessionId = `cs_test_foreign_${ref.length}`;
        const res = await deliver(signed(completed(sessionId, ref, 1000)));
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as { verdict: string }).verdict, 'refused');
        assert.deepEqual(
          (await jobsFor(sessionId)).map((j) => j.task),
          [REFUSE_SESSION_TASK],
        );
      }
    });

    it('a payment arriving after the invoice expired is refused and cancelled', async () => {
      const { sessionId, invoice } = await payNow();
      clock.advance(invoice.expiresAt.getTime() - clock.now().getTime() + 1000);
      const res = await deliver(
        signed(completed(sessionId, invoice.id, Number(invoice.amountMinor)), CURRENT, clock.now()),
      );
      assert.equal(((await res.json()) as { verdict: string }).verdict, 'refused');
      assert.deepEqual(
        (await jobsFor(sessionId)).map((j) => j.task),
        [REFUSE_SESSION_TASK],
      );
      assert.notEqual(await invoiceStatus(invoice.id), 'paid');
    });
  });
}
