// The invoice page in Chromium against the shop (in-memory gateway behind the port): with WebSocket
// unavailable it falls back to polling the status endpoint and still turns "paid" without a reload;
// while a payment is in progress it asks before the page is left.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { FakeGateway, signedDelivery } from '../src/shop/adapters/gateway.fake.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { paymentAttempts } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { launchBrowser, withPage } from './support/browser.ts';
import { checkoutForm } from './support/factories.ts';

describe('invoice page in Chromium', () => {
  let shop: ServiceHandle;
  let database: Database;
  let browser: Browser;
  const gateway = new FakeGateway();
  const secret = newWebhookSecret();

  before(async () => {
    database = await freshDatabase(shopDatabaseSpec, testEngines()[0]!);
    shop = await startShop(
      loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'page-secret'.padEnd(40, 'x'),
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY_WEBHOOK_SECRETS: secret,
      }),
      { database, gateway, jobs: false },
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await shop?.stop();
  });

  /** Logs the page in and presses "Pay now" (server side, same cookie); returns the invoice and session. */
  async function paying(page: Page) {
    await page.goto(`${shop.url}/login`);
    await page.getByLabel('Email').fill('customer@shop.test');
    await page.getByLabel('Password').fill('demo-customer-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${shop.url}/`);
    const client = new ShopClient({ request: (p, i) => shop.app.request(p, i) });
    for (const c of await page.context().cookies()) client.cookies.set(c.name, c.value);
    await client.emptyCart();
    const cartId = await checkoutForm(client, {
      lines: [{ productId: (await listProducts(database.db))[0]!.id, quantity: 1 }],
      deliveryMethodId: (await listDeliveryMethods(database.db))[0]!.id,
    });
    const res = await client.send('/checkout/pay', { form: { cartId } });
    const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
    const invoiceId = (
      await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, sessionId))
    )[0]!.invoiceId;
    return { sessionId, invoiceId };
  }
  const deliver = async (event: { id: string }) => {
    const d = signedDelivery(event, [secret]);
    assert.equal(
      (await shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body })).status,
      200,
    );
  };

  it('polls the status endpoint when the WebSocket cannot connect, and shows "paid" without reloading', async () => {
    await withPage(browser, async (page) => {
      await page.addInitScript(() => {
        // A network that refuses WebSockets (a proxy, a corporate firewall).
        (window as unknown as { WebSocket: unknown }).WebSocket = function () {
          throw new Error('blocked');
        };
      });
      const { sessionId, invoiceId } = await paying(page);
      const polls: string[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith(`/api/invoices/${invoiceId}/status`)) polls.push(r.url());
      });
      await page.goto(`${shop.url}/invoices/${invoiceId}`);
      await page.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
      });
      await deliver(gateway.move(sessionId, 'authorized'));
      await page.waitForSelector('[data-testid="invoice-status"].paid', { timeout: 10_000 });
      assert.ok(polls.length >= 1, 'the status endpoint was polled');
      assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    });
  });

  it('asks before leaving while the payment is in progress', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const { sessionId, invoiceId } = await paying(page);
      await deliver(gateway.move(sessionId, 'requires_approval'));
      await page.goto(`${shop.url}/invoices/${invoiceId}`);
      assert.equal(await page.locator('#invoice-status').getAttribute('data-in-progress'), 'true');
      await page.click('h1'); // Chromium shows the prompt only after a user gesture
      const dialog = new Promise<string>((resolve) =>
        page.once('dialog', async (d) => {
          const type = d.type();
          await d.accept(); // leave: the page then closes cleanly
          resolve(type);
        }),
      );
      await page.close({ runBeforeUnload: true });
      assert.equal(await dialog, 'beforeunload');
    } finally {
      // The page is gone already; closing the context must not fail the test.
      await context.close().catch(() => undefined);
    }
  });
});
