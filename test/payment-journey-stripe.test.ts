// The staff journey page with a gateway whose port has no journey capability (as the Stripe adapter):
// the page still shows the shop's own side of the payment, and says that the gateway's part is not
// available from this gateway. The gateway here is the shop's in-memory fake, which has no such call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { freshDatabase } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import type { GatewayPort } from '../src/shop/domain/gateway.port.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { DEMO, checkoutForm } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';
import { stepsOfSvg } from './support/journey.ts';

describe('the staff journey page with a gateway that exposes no journey (Stripe)', () => {
  let shop: ServiceHandle;
  const gateway = new FakeGateway();

  before(async () => {
    const database = await freshDatabase(shopDatabaseSpec, 'pglite');
    const config = loadShopConfig({
      SHOP_PORT: '0',
      SHOP_SESSION_SECRET: 'journey-test-secret-'.padEnd(48, 'x'),
      LOG_LEVEL: 'silent',
      SHOP_GATEWAY_WEBHOOK_SECRETS: newWebhookSecret(),
    });
    shop = await startShop(config, { database, gateway, jobs: false });
  });
  after(async () => {
    await shop?.stop();
  });

  it("shows the shop's side and says the gateway's part is not available", async () => {
    assert.equal((gateway as GatewayPort).paymentJourney, undefined, 'the gateway has no journey call');
    const db = shop.database.db;
    const customer = new ShopClient({ request: (p, i) => shop.app.request(p, i) });
    assert.equal((await customer.login(...DEMO.customer)).status, 303);
    const cartId = await checkoutForm(customer, {
      lines: [{ productId: (await listProducts(db))[0]!.id, quantity: 1 }],
      deliveryMethodId: (await listDeliveryMethods(db))[0]!.id,
    });
    const pay = await customer.send('/checkout/pay', { form: { cartId } });
    assert.equal(pay.status, 303);
    const orderId = /\/orders\/(ord_\w+)/.exec(await (await customer.send('/orders')).text())?.[1];
    assert.ok(orderId, 'the order is listed');

    const staff = new ShopClient({ request: (p, i) => shop.app.request(p, i) });
    assert.equal((await staff.login(...DEMO.staff)).status, 303);
    const res = await staff.send(`/staff/orders/${orderId}/journey`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /not available from this gateway/);
    const steps = stepsOfSvg(html);
    assert.ok(steps.some((s) => s.from === 'browser' && s.to === 'shop' && /Pay now/.test(s.label)));
    assert.ok(steps.some((s) => s.from === 'gateway' && s.to === 'shop' && /^session ps_\w+ created/.test(s.label)));
    assert.deepEqual([...new Set(steps.map((s) => s.party))], ['shop'], "only the shop's own records");
    assert.equal(res.headers.get('refresh'), '2', 'the open attempt keeps the page live');
  });
});
