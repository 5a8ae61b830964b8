// An SMTP server that is down delays the mail and never the payment: the webhook is acknowledged and the
// order paid at once, staff see the receipt queued with its SMTP error, and the send job's retries deliver
// it once the server (the mail catcher, a real process) is back on the same port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { shopMails } from '../src/shop/mail/mail.schema.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { FakeGateway, signedDelivery } from '../src/shop/adapters/gateway.fake.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { invoices, orders } from '../src/shop/storage/tables.ts';
import { startCatcherProcess, type CatcherProcess, type InboxMail } from './support/mail.ts';
import { ShopClient } from './support/shop-client.ts';

const SECRET = 'mail-test-session-secret-'.padEnd(48, 'x');

// PGlite only: the outbox's one engine-specific part (the unique key) is the same SQL on both, and each run is a minute of real SMTP.
for (const engine of testEngines().filter((e) => e === 'pglite')) {
  describe(`shop mail with the SMTP server down (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    let catcher: CatcherProcess;
    const gateway = new FakeGateway();
    const webhookSecret = newWebhookSecret();
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
    let customer: ShopClient;
    let staff: ShopClient;
    let productId = '';
    let deliveryId = '';

    before(async () => {
      catcher = await startCatcherProcess();
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY_WEBHOOK_SECRETS: webhookSecret,
        SHOP_SMTP_URL: catcher.smtpUrl,
        SHOP_JOB_POLL_MS: '100',
        SHOP_SMTP_TIMEOUT_MS: '3000',
        SHOP_PUBLIC_URL: 'http://shop.test',
      });
      shop = await startShop(config, { database, gateway });
      productId = (await listProducts(database.db))[0]!.id;
      deliveryId = (await listDeliveryMethods(database.db))[0]!.id;
      customer = new ShopClient(app, '198.51.100.20');
      staff = new ShopClient(app, '198.51.100.21');
      assert.equal((await customer.login('customer@shop.test', 'demo-customer-password')).status, 303);
      assert.equal((await staff.login('staff@shop.test', 'demo-staff-password')).status, 303);
    });
    after(async () => {
      await shop?.stop();
      await catcher?.stop();
    });

    async function payNow() {
      await customer.emptyCart();
      await customer.send('/cart/add', { form: { productId, quantity: '2' } });
      await customer.send('/checkout/delivery', { form: { deliveryMethodId: deliveryId } });
      await customer.send('/checkout/address', {
        form: {
          fullName: 'Ada Lovelace',
          line1: '1 Analytical St',
          line2: '',
          postalCode: '10115',
          city: 'Berlin',
          country: 'de',
        },
      });
      const page = await (await customer.send('/checkout/pay')).text();
      const cartId = /name="cartId" value="([^"]+)"/.exec(page)![1]!;
      const res = await customer.send('/checkout/pay', { form: { cartId } });
      const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
      const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
      const [invoice] = await database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
      const [order] = await database.db.select().from(orders).where(eq(orders.id, invoice!.orderId));
      return { sessionId, invoice: invoice!, order: order! };
    }
    const deliver = async (event: { id: string }) => {
      const d = signedDelivery(event, [webhookSecret]);
      return shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body });
    };
    const about = (orderId: string) => (mails: InboxMail[]) => mails.filter((m) => m.subject.includes(orderId));
    const mailRows = (orderId: string) => database.db.select().from(shopMails).where(eq(shopMails.orderId, orderId));

    it('with the SMTP server down the payment is still paid; staff see the mail queued with its SMTP error; it is sent once the server is back', async () => {
      await catcher.stop();
      try {
        const { sessionId, order } = await payNow();
        const started = Date.now();
        assert.equal((await deliver(gateway.move(sessionId, 'authorized'))).status, 200);
        assert.ok(Date.now() - started < 3000, 'the webhook did not wait for SMTP');
        const [paid] = await database.db.select().from(orders).where(eq(orders.id, order.id));
        assert.equal(paid!.status, 'paid');
        for (let i = 0; ; i++) {
          const [row] = await mailRows(order.id);
          if (row?.lastError) {
            assert.equal(row.status, 'queued');
            assert.match(row.lastError, /ECONNREFUSED|connect/i);
            break;
          }
          assert.ok(i < 100, 'the failed attempt was recorded');
          await new Promise((r) => setTimeout(r, 100));
        }
        const page = await (await staff.send(`/staff/orders/${order.id}`)).text();
        assert.match(page, /data-kind="receipt" data-status="queued"/);
        assert.match(page, /data-testid="staff-order-mail-error">[^<]*(ECONNREFUSED|connect)/i);
        await catcher.restart();
        const mails = await catcher.waitFor((m) => about(order.id)(m).length >= 1, 90_000);
        assert.equal(about(order.id)(mails).length, 1);
        const [row] = await mailRows(order.id);
        assert.equal(row!.status, 'sent');
        assert.ok(row!.attempts >= 2, `sent on a retry (attempt ${row!.attempts})`);
      } finally {
        await catcher.restart();
      }
    });
  });
}
