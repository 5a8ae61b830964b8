// The staff console in Chromium at 1280x800 after a real money story (capture, a partial refund made
// at the gateway, the rest refunded by staff): the order page and the lists have no horizontal
// overflow — not the page, and no table wider than its box (long ids, hashes and audit data wrap) —
// and the fully refunded order says what was captured and refunded. Screenshots are written to
// COUNTERSIGN_SCREENSHOTS (else a temporary directory) to be looked at.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { launchBrowser, shopLogin, withPage } from './support/browser.ts';
import { DEMO } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';
import { refundedOrder, type RefundedOrder } from './support/staff-console.ts';
import { screenshotDir } from './support/temp-dir.ts';

const WEBHOOK_SECRET = newWebhookSecret();
const SHOTS = screenshotDir('staff-console-');

describe('the staff console in Chromium', () => {
  let shop: ServiceHandle;
  let database: Database;
  let browser: Browser;
  let story: RefundedOrder;
  const clock = fakeClock(Date.now());
  const gateway = new FakeGateway();

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    database = await freshDatabase(shopDatabaseSpec, testEngines()[0]!);
    shop = await startShop(
      loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'staff-browser-secret'.padEnd(40, 'x'),
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      }),
      { database, clock, gateway, jobs: false },
    );
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
    const staff = new ShopClient(app, '198.51.100.51');
    const customer = new ShopClient(app, '198.51.100.52');
    assert.equal((await staff.login(...DEMO.staff)).status, 303);
    assert.equal((await customer.login(...DEMO.customer)).status, 303);
    story = await refundedOrder({ app, database, clock, gateway, secret: WEBHOOK_SECRET, customer, staff });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await shop?.stop();
  });

  /** The page's and every table's overflow: widths that exceed their box. */
  async function overflow(page: Page) {
    return page.evaluate(() => {
      const root = document.scrollingElement!;
      const tables = Array.from(document.querySelectorAll('table')).map((t) => {
        const box = t.parentElement!;
        return {
          testid: t.dataset.testid ?? box.previousElementSibling?.textContent ?? '',
          table: t.scrollWidth,
          box: box.clientWidth,
        };
      });
      return {
        page: { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth },
        tooWide: tables.filter((t) => t.table > t.box),
      };
    });
  }

  it('shows the refunded order, its audit trail and the lists without horizontal overflow at 1280x800', async () => {
    await withPage(
      browser,
      async (page) => {
        await shopLogin(page, shop.url, ...DEMO.staff);
        const paths = [
          ['order', `/staff/orders/${story.orderId}`],
          ['orders', '/staff/orders'],
          ['payments', '/staff/payments'],
          ['refunds', '/staff/refunds'],
          ['webhooks', '/staff/payments/webhooks'],
        ] as const;
        for (const [name, path] of paths) {
          await page.goto(`${shop.url}${path}`);
          await page.screenshot({ path: join(SHOTS, `staff-${name}.png`), fullPage: true });
          const o = await overflow(page);
          assert.ok(
            o.page.scrollWidth <= o.page.clientWidth,
            `${path}: page ${o.page.scrollWidth} > ${o.page.clientWidth}`,
          );
          assert.deepEqual(o.tooWide, [], `${path}: tables wider than their box`);
        }
        await page.goto(`${shop.url}/staff/orders/${story.orderId}`);
        const audit = page.getByTestId('audit-table');
        assert.ok((await audit.locator('tbody tr').count()) >= 5, 'the audit trail has entries');
        const box = await audit.boundingBox();
        assert.ok(box && box.width <= 1008, `the audit table is ${box?.width} px wide`);
        await audit.screenshot({ path: join(SHOTS, 'staff-order-audit.png') });
      },
      { viewport: { width: 1280, height: 800 } },
    );
  });

  it('says the fully refunded order captured and refunded its total, not "Nothing was captured"', async () => {
    await withPage(
      browser,
      async (page) => {
        await shopLogin(page, shop.url, ...DEMO.staff);
        await page.goto(`${shop.url}/staff/orders/${story.orderId}`);
        const summary = (await page.getByTestId('capture-summary').innerText()).trim();
        const total = `€${story.totalMinor / 100n}.${String(story.totalMinor % 100n).padStart(2, '0')}`;
        assert.match(
          summary,
          new RegExp(
            `^Captured ${total.replace('.', '\\.')} on .+ UTC\\. Refunded ${total.replace('.', '\\.')} in full, last on .+ UTC\\.$`,
          ),
        );
        assert.equal(await page.getByText('Nothing was captured').count(), 0);
        await page.getByTestId('capture-summary').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, 'staff-order-refunded.png') });
      },
      { viewport: { width: 1280, height: 800 } },
    );
  });
});
