// "Paid on our side, voided on theirs" (issue 8, found by the crash matrix): the shop accepted an
// authorisation (invoice paid) but the gateway voided it — our 2xx came after its acknowledgement
// window, or a crash ate it. No money was taken, so the shop must not ship: the gateway's
// payment.voided, through the one gateway-event path (webhook or reconciliation feed), reverses the
// invoice, the order goes back to awaiting payment (audited, published to integrations), staff see
// the finding, and the customer can pay the order again with a new invoice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { readEventFeed } from '../src/shop/jobs/reconcile.ts';
import { FakeGateway, signedDelivery } from '../src/shop/adapters/gateway.fake.ts';
import { reconciliationFindings } from '../src/shop/storage/payments.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { auditLog, invoices, orders, orderStatusEvents, paymentAttempts } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO, checkoutForm } from './support/factories.ts';

for (const engine of testEngines()) {
  describe(`a payment the shop accepted and the gateway then voided (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.now());
    const gateway = new FakeGateway();
    const secret = newWebhookSecret();
    let client: ShopClient;
    let productId = '';
    let deliveryId = '';

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'reversal-test-secret-'.padEnd(48, 'x'),
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY_WEBHOOK_SECRETS: secret,
      });
      shop = await startShop(config, { database, clock, gateway, jobs: false });
      productId = (await listProducts(database.db))[0]!.id;
      deliveryId = (await listDeliveryMethods(database.db))[0]!.id;
      client = new ShopClient({ request: (p, i) => shop.app.request(p, i) });
      assert.equal((await client.login(...DEMO.customer)).status, 303);
    });
    after(async () => {
      await shop?.stop(); // closes the database too
    });

    async function payNow(): Promise<{ sessionId: string; invoiceId: string; orderId: string }> {
      await client.emptyCart();
      const cartId = await checkoutForm(client, { lines: [{ productId, quantity: 1 }], deliveryMethodId: deliveryId });
      const location = (await client.send('/checkout/pay', { form: { cartId } })).headers.get('location') ?? '';
      const sessionId = /\/pay\/(ps_\w+)$/.exec(location)![1]!;
      const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
      const [inv] = await database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
      return { sessionId, invoiceId, orderId: inv!.orderId };
    }
    const deliver = (event: { id: string }) => {
      const d = signedDelivery(event, [secret], clock.now());
      return shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body });
    };
    const invoiceStatus = async (id: string) =>
      (await database.db.select().from(invoices).where(eq(invoices.id, id)))[0]!.status;
    const orderStatus = async (id: string) =>
      (await database.db.select().from(orders).where(eq(orders.id, id)))[0]!.status;
    const audits = async (action: string, subject: string) =>
      (
        await database.db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.action, action), eq(auditLog.subject, subject)))
      ).length;

    it('by webhook: the invoice is reversed, the order awaits payment again (audited, published), staff see the finding, a redelivery changes nothing', async () => {
      const { sessionId, invoiceId, orderId } = await payNow();
      assert.equal((await deliver(gateway.move(sessionId, 'authorized'))).status, 200);
      assert.equal(await invoiceStatus(invoiceId), 'paid');
      assert.equal(await orderStatus(orderId), 'paid');

      const voided = gateway.move(sessionId, 'voided', 'acknowledgement_timeout');
      assert.equal((await deliver(voided)).status, 200);
      assert.equal(await invoiceStatus(invoiceId), 'reversed');
      assert.equal(await orderStatus(orderId), 'awaiting_payment');
      const [attempt] = await database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      assert.equal(attempt!.status, 'voided');
      assert.equal(await audits('invoice.reverse', invoiceId), 1);
      const moves = await database.db.select().from(orderStatusEvents).where(eq(orderStatusEvents.orderId, orderId));
      assert.deepEqual(
        moves.map((m) => `${m.fromStatus}->${m.toStatus}`).slice(-1),
        ['paid->awaiting_payment'],
        'integrations hear the order is no longer paid',
      );
      const finding = (await reconciliationFindings(database.db)).find((f) => f.attempt.gatewaySessionId === sessionId);
      assert.match(finding?.finding ?? '', /voided at the gateway: invoice reversed/);

      assert.equal((await deliver(voided)).status, 200);
      assert.equal(await audits('invoice.reverse', invoiceId), 1, 'a redelivered void reverses nothing twice');
    });

    it('by the reconciliation feed (the void webhook lost): the same reversal, once; then the customer pays the order with a new invoice', async () => {
      const { sessionId, invoiceId, orderId } = await payNow();
      assert.equal((await deliver(gateway.move(sessionId, 'authorized'))).status, 200);
      gateway.move(sessionId, 'voided', 'acknowledgement_timeout'); // only in the feed
      await readEventFeed({ database, gateway, clock });
      await readEventFeed({ database, gateway, clock });
      assert.equal(await invoiceStatus(invoiceId), 'reversed');
      assert.equal(await orderStatus(orderId), 'awaiting_payment');
      assert.equal(await audits('invoice.reverse', invoiceId), 1);

      // A late authorisation of the same (voided) session changes nothing: the invoice is no longer valid.
      const res = await client.send(`/orders/${orderId}/pay`, { form: {} });
      assert.equal(res.status, 303);
      const next = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')?.[1];
      assert.ok(next && next !== sessionId, 'a new session for a new invoice');
      const newInvoice = gateway.sessions.get(next)!.request.invoiceId;
      assert.notEqual(newInvoice, invoiceId);
      assert.equal((await deliver(gateway.move(next, 'authorized'))).status, 200);
      assert.equal(await invoiceStatus(newInvoice), 'paid');
      assert.equal(await orderStatus(orderId), 'paid');
      assert.equal(await invoiceStatus(invoiceId), 'reversed', 'the reversed invoice stays reversed');
    });

    it('a void of a payment the shop had refused or never accepted reverses nothing', async () => {
      const { sessionId, invoiceId, orderId } = await payNow();
      assert.equal((await deliver(gateway.move(sessionId, 'voided', 'canceled'))).status, 200);
      assert.equal(await invoiceStatus(invoiceId), 'open');
      assert.equal(await orderStatus(orderId), 'awaiting_payment');
      assert.equal(await audits('invoice.reverse', invoiceId), 0);
    });
  });
}
