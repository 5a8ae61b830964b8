// The shop and the real gateway, both started in process over real HTTP (only the bank is faked
// behind the gateway's issuer port): "Pay now" -> hosted session -> card -> signed webhook -> the
// shop acknowledges after its commit -> the gateway captures. An authorisation after the invoice
// expired is refused and voided (not charged); a dropped webhook is recovered from the event feed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { gatewayDatabaseSpec, loadGatewayConfig, startGateway } from '../src/gateway/main.ts';
import { eventually, FakeIssuer, logCapture, TEST_API_KEY } from '../src/gateway/testing.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { createGatewayAdapter } from '../src/shop/adapters/gateway.native.ts';
import type { GatewayPort } from '../src/shop/domain/gateway.port.ts';
import { readEventFeed } from '../src/shop/jobs/reconcile.ts';
import { webhookReceipts } from '../src/shop/storage/tables.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { auditLog, invoices, paymentAttempts } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO, cardDetails, checkoutForm } from './support/factories.ts';

const card = (number: string) => cardDetails(number, { name: 'A Payer' });

for (const engine of testEngines()) {
  describe(`shop and gateway over HTTP (${engine})`, () => {
    let shop: ServiceHandle;
    let gateway: ServiceHandle;
    let shopDb: Database;
    const issuer = new FakeIssuer();
    const clock = fakeClock(Date.now());
    const secret = newWebhookSecret();
    let adapter: GatewayPort;
    let client: ShopClient;
    let productId = '';
    let deliveryId = '';

    before(async () => {
      shopDb = await freshDatabase(shopDatabaseSpec, engine);
      // The shop starts first (the gateway needs its webhook URL); its adapter is bound once the gateway listens.
      const late: GatewayPort = {
        createSession: (r) => adapter.createSession(r),
        getSession: (id) => adapter.getSession(id),
        cancelSession: (id) => adapter.cancelSession(id),
        listEvents: (after, limit) => adapter.listEvents(after, limit),
        createRefund: (r) => adapter.createRefund(r),
      };
      shop = await startShop(
        loadShopConfig({
          SHOP_PORT: '0',
          SHOP_SESSION_SECRET: 'flow-secret'.padEnd(40, 'x'),
          LOG_LEVEL: 'silent',
          SHOP_GATEWAY_WEBHOOK_SECRETS: secret,
          SHOP_INVOICE_TTL_SECONDS: '120',
        }),
        { database: shopDb, clock, gateway: late, jobs: false },
      );
      const gwDb = await freshDatabase(gatewayDatabaseSpec, engine);
      const config = loadGatewayConfig({
        GATEWAY_PORT: '0',
        GATEWAY_BANK_KEY: newWebhookSecret(),
        GATEWAY_BANK_CALLBACK_SECRET: newWebhookSecret(),
        GATEWAY_DEMO_MERCHANT_API_KEY: TEST_API_KEY,
        GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: secret,
        GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: `${shop.url}/webhooks/gateway`,
        GATEWAY_JOB_POLL_MS: '100',
        LOG_LEVEL: 'silent',
      });
      gateway = await startGateway(config, { database: gwDb, issuer, log: logCapture().log });
      adapter = createGatewayAdapter({ baseUrl: gateway.url, apiKey: TEST_API_KEY });
      productId = (await listProducts(shopDb.db))[0]!.id;
      deliveryId = (await listDeliveryMethods(shopDb.db))[0]!.id;
      client = new ShopClient({ request: (p, i) => shop.app.request(p, i) }, '198.51.100.21');
      assert.equal((await client.login(...DEMO.customer)).status, 303);
    });
    after(async () => {
      await gateway?.stop();
      await shop?.stop();
    });

    async function payNow() {
      await client.emptyCart();
      const cartId = await checkoutForm(client, { lines: [{ productId, quantity: 1 }], deliveryMethodId: deliveryId });
      const res = await client.send('/checkout/pay', { form: { cartId } });
      const location = res.headers.get('location') ?? '';
      assert.ok(location.startsWith(`${gateway.url}/pay/ps_`), `sent to the hosted page, got ${location}`);
      const sessionId = location.slice(location.lastIndexOf('/') + 1);
      const [attempt] = await shopDb.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      return { sessionId, invoiceId: attempt!.invoiceId, location };
    }
    const pay = (sessionId: string, number: string) =>
      fetch(`${gateway.url}/pay/${sessionId}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(card(number)),
      });
    const invoiceStatus = async (id: string) =>
      (await shopDb.db.select().from(invoices).where(eq(invoices.id, id)))[0]!.status;
    const gwSession = async (id: string) =>
      (await (
        await fetch(`${gateway.url}/v1/payment_sessions/${id}`, {
          headers: { authorization: `Bearer ${TEST_API_KEY}` },
        })
      ).json()) as { status: string; void_reason: string | null };

    it('pays with 4242…: the webhook is acknowledged after the commit, the gateway captures, the invoice is paid once', async () => {
      const { sessionId, invoiceId } = await payNow();
      assert.equal((await pay(sessionId, '4242424242424242')).status < 300, true);
      await eventually(
        async () => ((await gwSession(sessionId)).status === 'captured' ? true : undefined),
        10_000,
        'captured at the gateway',
      );
      assert.equal(await invoiceStatus(invoiceId), 'paid');
      await eventually(
        async () =>
          (await shopDb.db.select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, sessionId)))[0]!
            .status === 'captured'
            ? true
            : undefined,
        5000,
        'attempt captured',
      );
      // The signed news named the card (brand and last four, nothing more): the receipt reads it here.
      const [attempt] = await shopDb.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      const { card } = (await gwSession(sessionId)) as unknown as { card: { brand: string; last4: string } };
      assert.deepEqual([attempt!.cardBrand, attempt!.cardLast4], [card.brand, '4242']);
      const pays = await shopDb.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'invoice.pay'), eq(auditLog.subject, invoiceId)));
      assert.equal(pays.length, 1);
      assert.equal(issuer.count('capture:'), 1);
    });

    it('refuses an authorisation after the invoice expired: 409, the gateway voids it, the payer is not charged', async () => {
      const { sessionId, invoiceId } = await payNow();
      const [inv] = await shopDb.db.select().from(invoices).where(eq(invoices.id, invoiceId));
      // Invoices live 120 s here: the shop's clock passes the expiry yet stays within the 5 min signature tolerance.
      clock.set(inv!.expiresAt.getTime() + 1000);
      try {
        await pay(sessionId, '4242424242424242');
        const s = await eventually(
          async () => {
            const got = await gwSession(sessionId);
            return got.status === 'voided' ? got : undefined;
          },
          10_000,
          'voided at the gateway',
        );
        assert.equal(s.void_reason, 'invoice.expired');
        assert.notEqual(await invoiceStatus(invoiceId), 'paid');
        const refused = await shopDb.db
          .select()
          .from(webhookReceipts)
          .where(and(eq(webhookReceipts.sessionId, sessionId), eq(webhookReceipts.verdict, 'refused')));
        assert.equal(refused.length, 1);
      } finally {
        clock.set(Date.now());
      }
    });

    it("recovers a payment whose webhooks are dropped, from the gateway's event feed", async () => {
      const put = await fetch(`${gateway.url}/v1/admin/fault_injection`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          enabled: true,
          seed: 'seven',
          config: {
            webhooks: { drop: 1, duplicate: 0, reorder: 0, reorder_window_ms: 0, delay: 0, delay_ms: 0 },
            api: { fail: 0, slow: 0, slow_ms: 0 },
          },
        }),
      });
      assert.equal(put.status, 200, await put.text());
      try {
        const { sessionId, invoiceId } = await payNow();
        await pay(sessionId, '4242424242424242');
        await eventually(
          async () => ((await gwSession(sessionId)).status === 'authorized' ? true : undefined),
          10_000,
          'authorized',
        );
        assert.equal(await invoiceStatus(invoiceId), 'open', 'no webhook arrived');
        await readEventFeed({ database: shopDb, gateway: adapter, clock });
        assert.equal(await invoiceStatus(invoiceId), 'paid');
      } finally {
        await fetch(`${gateway.url}/v1/admin/fault_injection`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            enabled: false,
            seed: 'seven',
            config: {
              webhooks: { drop: 0, duplicate: 0, reorder: 0, reorder_window_ms: 0, delay: 0, delay_ms: 0 },
              api: { fail: 0, slow: 0, slow_ms: 0 },
            },
          }),
        });
      }
    });
  });
}
