// Refunds between the shop and the real gateway, both started in process over real HTTP (only the
// bank is faked behind the gateway's issuer port), with the shop's worker running: a payment is
// captured, 20 staff refund requests race and exactly the ones that fit are accepted, the worker
// executes them at the gateway (Idempotency-Key = our refund id), the gateway's refund webhooks mark
// them succeeded, the last refund makes the invoice and the order refunded, and the audit chain of
// the whole run verifies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { gatewayDatabaseSpec, loadGatewayConfig, startGateway } from '../src/gateway/main.ts';
import { eventually, FakeIssuer, logCapture, TEST_API_KEY } from '../src/gateway/testing.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { createGatewayAdapter } from '../src/shop/adapters/gateway.native.ts';
import type { GatewayPort } from '../src/shop/domain/gateway.port.ts';
import { refunds } from '../src/shop/storage/tables.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { invoices, orders, paymentAttempts } from '../src/shop/storage/tables.ts';
import { verifyShopAudit } from '../src/shop/audit/verify.ts';
import { ShopClient } from './support/shop-client.ts';
import { APPROVED_CARD, DEMO, cardDetails, checkoutForm } from './support/factories.ts';

for (const engine of testEngines()) {
  describe(`refunds between the shop and the gateway over HTTP (${engine})`, () => {
    let shop: ServiceHandle;
    let gateway: ServiceHandle;
    let shopDb: Database;
    const issuer = new FakeIssuer();
    const secret = newWebhookSecret();
    let adapter: GatewayPort;

    before(async () => {
      shopDb = await freshDatabase(shopDatabaseSpec, engine);
      const late: GatewayPort = {
        createSession: (r) => adapter.createSession(r),
        getSession: (id) => adapter.getSession(id),
        cancelSession: (id) => adapter.cancelSession(id),
        listEvents: (a, l) => adapter.listEvents(a, l),
        createRefund: (r) => adapter.createRefund(r),
      };
      shop = await startShop(
        loadShopConfig({
          SHOP_PORT: '0',
          SHOP_SESSION_SECRET: 'refund-e2e'.padEnd(40, 'x'),
          LOG_LEVEL: 'silent',
          SHOP_GATEWAY_WEBHOOK_SECRETS: secret,
          SHOP_JOB_POLL_MS: '50',
        }),
        { database: shopDb, gateway: late },
      );
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
      gateway = await startGateway(config, {
        database: await freshDatabase(gatewayDatabaseSpec, engine),
        issuer,
        log: logCapture().log,
      });
      adapter = createGatewayAdapter({ baseUrl: gateway.url, apiKey: TEST_API_KEY });
    });
    after(async () => {
      await gateway?.stop();
      await shop?.stop();
    });

    it('accepts exactly the refunds that fit of 20 racing requests, executes them at the gateway, and refunds invoice and order with the last', async () => {
      const customer = new ShopClient({ request: (p, i) => shop.app.request(p, i) }, '198.51.100.71');
      assert.equal((await customer.login(...DEMO.customer)).status, 303);
      const cartId = await checkoutForm(customer, {
        lines: [{ productId: (await listProducts(shopDb.db))[0]!.id, quantity: 2 }],
        deliveryMethodId: (await listDeliveryMethods(shopDb.db))[0]!.id,
      });
      const location = (await customer.send('/checkout/pay', { form: { cartId } })).headers.get('location') ?? '';
      const sessionId = location.slice(location.lastIndexOf('/') + 1);
      const pay = await fetch(`${gateway.url}/pay/${sessionId}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cardDetails(APPROVED_CARD, { name: 'A Payer' })),
      });
      assert.ok(pay.status < 300, await pay.text());
      const gwSession = async () =>
        (await (
          await fetch(`${gateway.url}/v1/payment_sessions/${sessionId}`, {
            headers: { authorization: `Bearer ${TEST_API_KEY}` },
          })
        ).json()) as { status: string; refunded_amount: { minor: string } | null };
      await eventually(
        async () => ((await gwSession()).status === 'captured' ? true : undefined),
        15_000,
        'captured at the gateway',
      );
      const [attempt] = await shopDb.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      const [invoice] = await shopDb.db.select().from(invoices).where(eq(invoices.id, attempt!.invoiceId));
      assert.equal(invoice!.status, 'paid');

      const staff = new ShopClient({ request: (p, i) => shop.app.request(p, i) }, '198.51.100.72');
      assert.equal((await staff.login(...DEMO.staff)).status, 303);
      const csrf = await staff.csrf();
      const each = invoice!.amountMinor / 4n + 1n; // 3 fit, a 4th would exceed
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          staff.send(`/staff/orders/${invoice!.orderId}/refunds`, {
            form: { invoiceId: invoice!.id, amount: (Number(each) / 100).toFixed(2), reason: `race ${i}` },
            csrf,
          }),
        ),
      );
      assert.deepEqual(
        [answers.filter((a) => a.status === 303).length, answers.filter((a) => a.status === 409).length],
        [3, 17],
      );

      const settled = async (n: number) =>
        eventually(
          async () => {
            const rows = await shopDb.db.select().from(refunds).where(eq(refunds.invoiceId, invoice!.id));
            return rows.length === n && rows.every((r) => r.status === 'succeeded') ? rows : undefined;
          },
          20_000,
          `${n} refunds succeeded`,
        );
      const three = await settled(3);
      assert.ok(three.every((r) => r.gatewayRefundId?.startsWith('ref_')));
      assert.equal(issuer.count('refund:'), 3, 'the bank refunded each exactly once');
      assert.equal((await gwSession()).status, 'partially_refunded');

      const rest = invoice!.amountMinor - 3n * each;
      assert.equal(
        (
          await staff.send(`/staff/orders/${invoice!.orderId}/refunds`, {
            form: { invoiceId: invoice!.id, amount: (Number(rest) / 100).toFixed(2), reason: 'the rest' },
          })
        ).status,
        303,
      );
      await settled(4);
      await eventually(
        async () =>
          (await shopDb.db.select().from(orders).where(eq(orders.id, invoice!.orderId)))[0]!.status === 'refunded'
            ? true
            : undefined,
        10_000,
        'order refunded',
      );
      assert.equal(
        (await shopDb.db.select().from(invoices).where(eq(invoices.id, invoice!.id)))[0]!.status,
        'refunded',
      );
      assert.equal((await gwSession()).status, 'refunded');
      assert.match(await (await customer.send(`/orders/${invoice!.orderId}`)).text(), /has been refunded to your card/);

      const verdict = await verifyShopAudit(shopDb);
      assert.ok(verdict.ok, JSON.stringify(verdict));
      assert.ok(verdict.count > 20);
    });
  });
}
