// The shop's payment jobs as wired in main.ts, on both engines: the worker's recurring expiry job
// expires an invoice past its expiry and the queued cancellation closes its gateway session; the
// reconciliation job polls an attempt pending too long and reads the event feed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { eventually } from '../src/gateway/testing.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { invoices, paymentAttempts } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO, checkoutForm } from './support/factories.ts';

for (const engine of testEngines()) {
  describe(`shop payment jobs (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const gateway = new FakeGateway();
    const clock = fakeClock(Date.now());
    let client: ShopClient;

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'jobs-secret'.padEnd(40, 'x'),
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY_WEBHOOK_SECRETS: newWebhookSecret(),
        SHOP_EXPIRY_EVERY_SECONDS: '30',
        SHOP_RECONCILE_EVERY_SECONDS: '60',
        SHOP_RECONCILE_PENDING_AGE_SECONDS: '900',
        SHOP_JOB_POLL_MS: '50',
      });
      shop = await startShop(config, { database, gateway, clock });
      client = new ShopClient({ request: (p, i) => shop.app.request(p, i) }, '198.51.100.44');
      assert.equal((await client.login(...DEMO.customer)).status, 303);
    });
    after(async () => {
      await shop?.stop();
    });

    async function payNow() {
      await client.emptyCart();
      const cartId = await checkoutForm(client, {
        lines: [{ productId: (await listProducts(database.db))[0]!.id, quantity: 1 }],
        deliveryMethodId: (await listDeliveryMethods(database.db))[0]!.id,
      });
      const res = await client.send('/checkout/pay', { form: { cartId } });
      const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
      const [attempt] = await database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      return { sessionId, invoiceId: attempt!.invoiceId };
    }
    const invoiceStatus = async (id: string) =>
      (await database.db.select().from(invoices).where(eq(invoices.id, id)))[0]!.status;

    it('reconciliation polls an attempt pending longer than the configured age and applies what the gateway says', async () => {
      const { sessionId, invoiceId } = await payNow();
      gateway.move(sessionId, 'authorized');
      gateway.feed.pop(); // neither the webhook nor the feed tells: only a poll can find out
      clock.advance(61_000);
      await new Promise((r) => setTimeout(r, 400));
      assert.ok(!gateway.calls.includes(`get:${sessionId}`), 'not polled before the age');
      assert.equal(await invoiceStatus(invoiceId), 'open');
      clock.advance(900_000);
      await eventually(
        async () => ((await invoiceStatus(invoiceId)) === 'paid' ? true : undefined),
        10_000,
        'paid by reconciliation',
      );
      assert.ok(gateway.calls.includes(`get:${sessionId}`));
    });

    it('the expiry job expires an invoice past its expiry and the queued job cancels its gateway session', async () => {
      const { sessionId, invoiceId } = await payNow();
      clock.advance(31 * 60_000);
      await eventually(
        async () => ((await invoiceStatus(invoiceId)) === 'expired' ? true : undefined),
        10_000,
        'invoice expired',
      );
      await eventually(
        () => (gateway.calls.includes(`cancel:${sessionId}`) ? true : undefined),
        10_000,
        'session cancelled',
      );
      assert.equal(gateway.sessions.get(sessionId)!.status, 'canceled');
      await eventually(
        async () =>
          (await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, sessionId)))[0]!
            .status === 'expired'
            ? true
            : undefined,
        5000,
        'attempt expired',
      );
    });
  });
}
