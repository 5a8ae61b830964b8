// The three services as real processes, walked in Chromium while every Content-Security-Policy
// violation on every page is collected: the shop's pages anonymous, as the customer (cart, the four
// steps, "Pay now" redirected to the gateway's hosted page, a real payment, the invoice page turning
// paid live over its WebSocket, orders, the receipt, log out) and as staff; the gateway's dashboard;
// the bank app. Zero violations, and the pages still work and are styled. The collector itself is
// shown to catch one (an injected inline script that must not run).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { DEMO_DASHBOARD_OWNER } from '../src/gateway/domain/dashboard-account.rule.ts';
import { checkoutToHostedPage, launchBrowser, shopLogin } from './support/browser.ts';
import { watchCspViolations } from './support/csp.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { DEMO } from './support/factories.ts';

// Set to a directory to keep screenshots of the walked pages (to look at them).
const SHOTS = process.env.COUNTERSIGN_SCREENSHOTS;

describe('every page in Chromium under its Content-Security-Policy', () => {
  let system: LaunchedSystem;
  let browser: Browser;
  let shop = '';
  let gateway = '';

  before(async () => {
    system = await launchSystem();
    ({ shop, gateway } = system.urls);
    browser = await launchBrowser();
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await system?.stop();
  });

  /** A fresh context whose violations (on any of its pages) land in the returned list. */
  async function watched(): Promise<{ context: BrowserContext; page: Page; violations: string[] }> {
    const context = await browser.newContext();
    const violations = await watchCspViolations(context);
    return { context, page: await context.newPage(), violations };
  }
  async function shot(page: Page, name: string) {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }
  /** The shop's stylesheet applied: the page background and a product tile's colour come from it. */
  async function assertStyled(page: Page) {
    assert.equal(
      await page.evaluate(() => getComputedStyle(document.body).backgroundColor),
      'rgb(246, 247, 249)',
      `${page.url()} styled`,
    );
  }

  it('walks the shop anonymously, buys and pays as the customer, and sees the invoice turn paid live: no violation', async () => {
    const { context, page, violations } = await watched();
    try {
      for (const path of ['/', '/login', '/register']) {
        await page.goto(`${shop}${path}`);
        await assertStyled(page);
      }
      await page.goto(`${shop}/`);
      const tile = await page
        .locator('.placeholder')
        .first()
        .evaluate((el) => getComputedStyle(el).backgroundImage);
      assert.match(tile, /linear-gradient/, 'the product tile has its colour');
      await shot(page, 'shop-catalog');
      await page.getByRole('link', { name: 'Enamel mug' }).click();
      await assertStyled(page);

      await shopLogin(page, shop, ...DEMO.customer);
      const sessionId = await checkoutToHostedPage(page, shop, gateway, {
        name: 'Ada Lovelace',
        street: '1 Analytical Street',
      });
      assert.match(sessionId, /^ps_/, '"Pay now" reached the hosted page (form-action allows the redirect to it)');

      // The invoice, open in a second tab, joins its room over the WebSocket (connect-src).
      const watcher = await context.newPage();
      await watcher.goto(`${shop}/orders`);
      await assertStyled(watcher);
      const invoiceHref = (await watcher.locator('a[href^="/invoices/inv_"]').first().getAttribute('href'))!;
      await watcher.goto(`${shop}${invoiceHref}`);
      await watcher.waitForSelector('#invoice-status[data-live="true"]', { timeout: 15_000 });
      await shot(watcher, 'shop-invoice-open');
      await watcher.evaluate(() => Object.assign(window, { notReloaded: true }));

      await page.fill('#number', '4242 4242 4242 4242');
      await page.fill('#exp', '12/34');
      await page.fill('#cvc', '123');
      await page.fill('#name', 'Ada Lovelace');
      await shot(page, 'gateway-hosted-page');
      await page.click('#submit');
      await page.waitForSelector('#stage:has-text("Paid")', { timeout: 20_000 });

      await watcher.waitForSelector('[data-testid="invoice-status"].paid', { timeout: 15_000 });
      assert.equal(
        await watcher.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
        true,
        'updated live, without a reload',
      );
      assert.match((await watcher.locator('#payment-message').textContent()) ?? '', /Paid/);
      assert.equal(
        await watcher.getByRole('button', { name: /Pay now/ }).isVisible(),
        false,
        '"Pay now" is gone once paid',
      );
      await shot(watcher, 'shop-invoice-paid');

      await page.click('#return');
      await page.waitForURL(new RegExp(`^${shop}/invoices/inv_\\w+\\?from=gateway`));
      assert.equal((await page.getByTestId('invoice-status').textContent())?.trim(), 'paid');
      await page.getByRole('link', { name: /See the receipt/ }).click();
      await page.waitForURL(/\/orders\/ord_\w+\/receipt$/);
      await assertStyled(page);
      await page.goto(page.url().replace(/\/receipt$/, ''));
      await page.goto(`${shop}/cart`);
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForSelector('a:has-text("Log in")');
      assert.deepEqual(violations, [], 'no CSP violation on any page');
    } finally {
      await context.close();
    }
  });

  it("walks the staff console, the gateway's dashboard and the bank app: no violation", async () => {
    const { context, page, violations } = await watched();
    try {
      await shopLogin(page, shop, ...DEMO.staff);
      for (const path of [
        '/staff',
        '/staff/orders',
        '/staff/invoices',
        '/staff/customers',
        '/staff/products',
        '/staff/refunds',
        '/staff/payments',
      ]) {
        const res = await page.goto(`${shop}${path}`);
        assert.equal(res?.status(), 200, path);
        await assertStyled(page);
      }
      await page.goto(`${shop}/staff/orders`);
      await page.locator('a[href^="/staff/orders/ord_"]').first().click();
      await page.waitForURL(/\/staff\/orders\/ord_\w+$/);
      await shot(page, 'shop-staff-order');

      await page.goto(`${gateway}/`);
      await page.goto(`${gateway}/dashboard/login`);
      await page.fill('#email', DEMO_DASHBOARD_OWNER.email);
      await page.fill('#password', DEMO_DASHBOARD_OWNER.password);
      await page.click('button[type=submit]');
      await page.waitForURL(new RegExp(`^${gateway}/dashboard$`));
      for (const path of ['settings', 'events', 'webhooks', 'faults', 'team']) {
        await page.goto(`${gateway}/dashboard/${path}`);
        await assertStyled(page);
      }

      await page.goto(`${system.urls.bank}/app`);
      await page.fill('#email', DEMO_CARDHOLDER.email);
      await page.fill('#password', DEMO_CARDHOLDER.password);
      await page.click('button[type=submit]');
      await page.waitForSelector('body[data-live="true"]', { timeout: 15_000 });
      await shot(page, 'bank-app');
      assert.deepEqual(violations, [], 'no CSP violation on any page');
    } finally {
      await context.close();
    }
  });

  it('reports, and blocks, an inline script injected into a shop page (the collector works)', async () => {
    const { context, page, violations } = await watched();
    try {
      await page.goto(`${shop}/login`);
      await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.injected = true';
        document.body.appendChild(s);
      });
      // The report reaches this process asynchronously (through Chromium and CDP): wait for it.
      for (let waited = 0; waited < 10_000 && !violations.some((v) => /script-src/.test(v)); waited += 50) {
        await page.waitForTimeout(50);
      }
      assert.equal(
        await page.evaluate(() => (window as unknown as { injected?: boolean }).injected),
        undefined,
        'the injected script did not run',
      );
      assert.ok(
        violations.some((v) => /script-src/.test(v)),
        `reported: ${violations.join(' | ')}`,
      );
    } finally {
      await context.close();
    }
  });
});
