// The checkout in a real Chromium against a real shop server: the demo customer logs in from the
// page they wanted, adds to the cart, goes through the four steps and lands on the invoice; the same
// pages fit a phone's width; another customer sees "Access denied" for that invoice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { freshDatabase } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { launchBrowser, withPage } from './support/browser.ts';

describe('checkout in Chromium', () => {
  let shop: ServiceHandle;
  let browser: Browser;
  let invoiceUrl = '';

  before(async () => {
    const database = await freshDatabase(shopDatabaseSpec, 'pglite');
    shop = await startShop(
      loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'browser-test-secret'.padEnd(40, 'x'),
        LOG_LEVEL: 'silent',
      }),
      { database },
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await shop?.stop();
  });

  it('logs in as the demo customer, adds to the cart, goes through the four steps and sees the invoice', async () => {
    invoiceUrl = await withPage(browser, async (page) => {
      await page.goto(`${shop.url}/`);
      assert.match(await page.title(), /shop/i);
      await page.getByRole('link', { name: 'Enamel mug' }).click();
      await page.getByRole('button', { name: 'Add to cart' }).click();
      // Anonymous: the add is refused with a trip to the login page, which brings us back.
      assert.match(page.url(), /\/login\?next=/);
      await page.getByLabel('Email').fill('customer@shop.test');
      await page.getByLabel('Password').fill('demo-customer-password');
      await page.getByRole('button', { name: 'Log in' }).click();
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Enamel mug', 'back on the product page');
      await page.getByLabel('Quantity').fill('2');
      await page.getByRole('button', { name: 'Add to cart' }).click();
      assert.match(page.url(), /\/cart$/);
      assert.equal(await page.getByTestId('cart-count').innerText(), '2');
      await page.getByRole('link', { name: 'Check out' }).click();
      // 1. review
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Review your order');
      assert.equal(await page.getByTestId('subtotal').innerText(), '€25.00');
      await page.getByRole('link', { name: 'Continue to delivery' }).click();
      // 2. delivery
      await page.getByLabel(/Express delivery/).check();
      await page.getByRole('button', { name: 'Continue to address' }).click();
      // 3. address, first with a mistake shown next to its field
      await page.getByLabel('Full name').fill('Ada Lovelace');
      await page.getByLabel('Street and number').fill('1 Analytical Street');
      await page.getByLabel('Postal code').fill('x');
      await page.getByLabel('City').fill('Berlin');
      await page.getByLabel('Country').selectOption({ label: 'Germany' });
      await page.getByRole('button', { name: 'Continue to payment' }).click();
      assert.match(await page.locator('#e-postalCode').innerText(), /postal code/);
      assert.equal(await page.getByLabel('Country').inputValue(), 'DE', 'the country chosen is kept');
      await page.getByLabel('Postal code').fill('10115');
      await page.getByRole('button', { name: 'Continue to payment' }).click();
      assert.match(await page.locator('.card').filter({ hasText: 'Address' }).innerText(), /Germany/);
      // 4. pay
      assert.equal(await page.getByTestId('total').innerText(), '€37.90');
      await page.getByRole('button', { name: 'Pay now' }).click();
      assert.match(page.url(), /\/invoices\/inv_/);
      assert.equal(await page.getByTestId('invoice-amount').innerText(), '€37.90');
      assert.equal(await page.getByTestId('invoice-status').innerText(), 'open');
      assert.match(await page.getByTestId('invoice-valid').innerText(), /^Yes, until \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
      // My orders lists it with its invoice and status.
      await page.getByRole('link', { name: 'My orders' }).click();
      assert.equal(await page.getByTestId('order-row').count(), 1);
      assert.match(
        await page.getByTestId('order-row').innerText(),
        /Order \d+[\s\S]*awaiting payment[\s\S]*\d+-1[\s\S]*open[\s\S]*€37\.90/,
      );
      assert.doesNotMatch(await page.locator('main').innerText(), /ord_|inv_/, 'no internal ids shown');
      return (await page
        .getByTestId('order-row')
        .getByRole('link', { name: /^\d+-1$/ })
        .getAttribute('href'))!;
    });
    assert.match(invoiceUrl, /^\/invoices\/inv_/);
  });

  it('shows another customer "Access denied" for that invoice', async () => {
    await withPage(browser, async (page) => {
      const res = await page.goto(`${shop.url}${invoiceUrl}`);
      assert.match(page.url(), /\/login\?next=/);
      assert.equal(res?.status(), 200);
      await page.getByLabel('Email').fill('other@shop.test');
      await page.getByLabel('Password').fill('demo-other-password');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(invoiceUrl)),
        page.getByRole('button', { name: 'Log in' }).click(),
      ]);
      assert.equal(response.status(), 404);
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Access denied');
      assert.doesNotMatch(await page.content(), /37\.90/);
    });
  });

  it('fits a phone screen without sideways scrolling', async () => {
    await withPage(
      browser,
      async (page) => {
        for (const path of ['/', '/login']) {
          await page.goto(`${shop.url}${path}`);
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
          );
          assert.ok(overflow <= 0, `${path} overflows by ${overflow}px`);
        }
      },
      { viewport: { width: 375, height: 740 } },
    );
  });
});
