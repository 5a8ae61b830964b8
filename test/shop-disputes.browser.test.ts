// The staff dispute screen in Chromium at 1280x800: a paid order disputed by a signed webhook is listed
// at /staff/disputes with its deadline; on the order page staff read the time left, write their
// evidence, attach a file and submit — the card issuer decides at once (`winning_evidence`) and the
// order is paid again; on another order, accepting needs the box ticked and ends in "dispute lost".
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway, signedDelivery } from '../src/shop/adapters/gateway.fake.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { invoices } from '../src/shop/storage/tables.ts';
import { launchBrowser, shopLogin, withPage } from './support/browser.ts';
import { checkoutForm, DEMO } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';
import { screenshotDir } from './support/temp-dir.ts';

const SECRET = newWebhookSecret();
const SHOTS = screenshotDir('staff-disputes-');

describe('the staff dispute screen in Chromium', () => {
  let shop: ServiceHandle;
  let database: Database;
  let browser: Browser;
  const clock = fakeClock(Date.now());
  const gateway = new FakeGateway();
  let customer: ShopClient;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    database = await freshDatabase(shopDatabaseSpec, testEngines()[0]!);
    shop = await startShop(
      loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'dispute-browser-secret'.padEnd(40, 'x'),
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY_WEBHOOK_SECRETS: SECRET,
      }),
      { database, clock, gateway, jobs: false },
    );
    customer = new ShopClient(
      { request: (p: string, init?: RequestInit) => shop.app.request(p, init) },
      '198.51.100.61',
    );
    assert.equal((await customer.login(...DEMO.customer)).status, 303);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await shop?.stop();
  });

  async function deliver(event: { id: string }) {
    const d = signedDelivery(event, [SECRET], clock.now());
    const res = await shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body });
    assert.equal(res.status, 200);
  }

  /** A captured order, disputed with its evidence due in `hours`: its order id. */
  async function disputedOrder(hours: number): Promise<string> {
    await customer.emptyCart();
    const [product] = await listProducts(database.db);
    const [delivery] = await listDeliveryMethods(database.db);
    const cartId = await checkoutForm(customer, {
      lines: [{ productId: product!.id, quantity: 1 }],
      deliveryMethodId: delivery!.id,
    });
    const pay = await customer.send('/checkout/pay', { form: { cartId } });
    const sessionId = /\/pay\/(ps_\w+)$/.exec(pay.headers.get('location') ?? '')?.[1]!;
    await deliver(gateway.move(sessionId, 'captured'));
    const now = clock.now();
    await deliver(gateway.dispute(sessionId, { now, dueBy: new Date(now.getTime() + hours * 3_600_000) }));
    const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
    const [invoice] = await database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
    return invoice!.orderId;
  }

  it('lists the dispute, shows the time left, submits evidence with a file, and accepting needs the box ticked', async () => {
    const won = await disputedOrder(50);
    const lost = await disputedOrder(2);
    await withPage(
      browser,
      async (page) => {
        await shopLogin(page, shop.url, ...DEMO.staff);
        await page.goto(`${shop.url}/staff/disputes`);
        const rows = page.getByTestId('staff-dispute-row');
        assert.equal(await rows.count(), 2);
        assert.match(await rows.nth(0).innerText(), /1 h 59 min left|2 h 0 min left/, 'soonest deadline first');
        assert.match(await rows.nth(1).innerText(), /2 days 2 h left/);
        await page.screenshot({ path: join(SHOTS, 'staff-disputes.png'), fullPage: true });
        const wide = await page.evaluate(
          () => document.scrollingElement!.scrollWidth > document.scrollingElement!.clientWidth,
        );
        assert.equal(wide, false, 'no horizontal overflow');

        await rows.nth(1).getByRole('link').click();
        await page.waitForURL(`**/staff/orders/${won}`);
        assert.equal(await page.getByTestId('staff-order-status').innerText(), 'disputed');
        assert.match(await page.getByTestId('dispute-time-left').innerText(), /^2 days 2 h left$/);
        await page.getByLabel(/Your evidence/).fill('Delivered on time and signed for. winning_evidence');
        await page.getByLabel('Files').setInputFiles({
          name: 'tracking.txt',
          mimeType: 'text/plain',
          buffer: Buffer.from('Parcel 1Z999 delivered.'),
        });
        await page.getByRole('button', { name: 'Submit evidence' }).click();
        await page.waitForURL(`**/staff/orders/${won}#disputes`);
        assert.equal(await page.getByTestId('dispute-status').innerText(), 'won');
        assert.equal(await page.getByTestId('staff-order-status').innerText(), 'paid');
        assert.match(
          await page.getByTestId('dispute-evidence-sent').innerText(),
          /receipt-.+\.pdf, audit-trail-.+\.txt, tracking\.txt/,
        );
        await page.screenshot({ path: join(SHOTS, 'staff-dispute-won.png'), fullPage: true });

        await page.goto(`${shop.url}/staff/orders/${lost}`);
        await page.getByRole('button', { name: 'Accept the dispute' }).click();
        // The box is required: the browser does not send the form, nothing changes.
        assert.equal(await page.getByTestId('dispute-status').innerText(), 'needs response');
        await page.getByLabel(/I accept this dispute/).check();
        await page.getByRole('button', { name: 'Accept the dispute' }).click();
        await page.waitForURL(`**/staff/orders/${lost}#disputes`);
        assert.equal(await page.getByTestId('dispute-status').innerText(), 'lost');
        assert.equal(await page.getByTestId('staff-order-status').innerText(), 'dispute lost');
      },
      { viewport: { width: 1280, height: 800 } },
    );
  });
});
