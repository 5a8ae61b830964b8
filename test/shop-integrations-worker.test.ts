// The shop's worker, as started by main.ts, runs the refund and integration jobs on both engines: an
// order-status change reaches the configured endpoint signed, and a refund requested in the staff
// console is executed at the gateway (through the port, our refund id as key) without anyone
// running the job by hand.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { newWebhookSecret, verifyWebhook } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { eventually } from '../src/gateway/testing.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { refunds } from '../src/shop/storage/tables.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../src/shop/storage/cart.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { applyInvoiceEvent } from '../src/shop/commands/invoice-transition.ts';
import { invoiceForPayment } from '../src/shop/commands/invoice-for-payment.ts';
import { placeOrder } from '../src/shop/commands/place-order.ts';
import { paymentAttempts, users } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO } from './support/factories.ts';

for (const engine of testEngines()) {
  describe(`shop worker runs refunds and integration deliveries (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    let server: Server;
    const got: Array<{ headers: Record<string, string>; body: string }> = [];
    const gateway = new FakeGateway();
    const secret = newWebhookSecret();
    const clock = fakeClock(Date.now());

    before(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          got.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
          res.end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'worker-secret'.padEnd(40, 'x'),
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY_WEBHOOK_SECRETS: newWebhookSecret(),
        SHOP_JOB_POLL_MS: '50',
        SHOP_INTEGRATION_ENDPOINTS: `warehouse=http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`,
        SHOP_INTEGRATION_SECRET: secret,
      });
      shop = await startShop(config, { database, gateway, clock });
    });
    after(async () => {
      await shop?.stop();
      server.close();
    });

    it('delivers an order-status change to the endpoint and executes a staff refund at the gateway', async () => {
      const customerId = (await database.db.select().from(users).where(eq(users.email, 'customer@shop.test')))[0]!.id;
      const [product] = await listProducts(database.db);
      await addToCart(database.db, customerId, product!.id, 1, clock.now());
      await chooseCartDelivery(database.db, customerId, (await listDeliveryMethods(database.db))[0]!.id, clock.now());
      await saveCartAddress(
        database.db,
        customerId,
        { fullName: 'Ada', line1: '1 St', line2: '', postalCode: '10115', city: 'Berlin', country: 'DE' },
        clock.now(),
      );
      const order = await placeOrder(database.db, customerId, clock.now());
      const delivered = await eventually(
        () => got.find((g) => (JSON.parse(g.body) as { orderId: string }).orderId === order.id),
        10_000,
        'the order-status event at the endpoint',
      );
      verifyWebhook({ headers: delivered.headers, body: delivered.body, secrets: [secret], now: new Date() });

      const invoice = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      await database.transaction(async (tx) => {
        await tx.insert(paymentAttempts).values({
          id: `att_w${engine}`,
          invoiceId: invoice.id,
          status: 'captured',
          gatewaySessionId: `ps_w${engine}`,
          createdAt: clock.now(),
          updatedAt: clock.now(),
        });
        await applyInvoiceEvent(tx, invoice.id, 'pay', 'gateway', clock.now());
      });
      await eventually(
        () => got.find((g) => (JSON.parse(g.body) as { orderId: string; to: string }).to === 'paid' || undefined),
        10_000,
        'the paid event at the endpoint',
      );

      const staff = new ShopClient({ request: (p, i) => shop.app.request(p, i) }, '198.51.100.61');
      assert.equal((await staff.login(...DEMO.staff)).status, 303);
      assert.equal(
        (
          await staff.send(`/staff/orders/${order.id}/refunds`, {
            form: { invoiceId: invoice.id, amount: '1.00', reason: 'scratched' },
          })
        ).status,
        303,
      );
      const [refund] = await database.db.select().from(refunds).where(eq(refunds.invoiceId, invoice.id));
      const done = await eventually(
        async () => {
          const [row] = await database.db.select().from(refunds).where(eq(refunds.id, refund!.id));
          // 'submitted' is recorded before the gateway is asked (d6c37b3); the gateway's refund id after it answers.
          return row!.status === 'submitted' && row!.gatewayRefundId ? row : undefined;
        },
        10_000,
        'the refund submitted to the gateway and its refund id recorded',
      );
      assert.ok(gateway.calls.includes(`refund:${refund!.id}`));
      assert.ok(done!.gatewayRefundId);
    });
  });
}
