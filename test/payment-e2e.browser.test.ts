// The whole payment as a newcomer sees it: `src/main.ts --tls` starts the three services as real processes
// over https (each verifying the others against the CA it made; Chromium trusts that CA by its key);
// in Chromium the customer logs in, buys, presses "Pay now", pays with 4242… on the gateway's hosted
// page, and the invoice page open in another tab turns "paid" without a reload (WebSocket), then the
// return link shows the paid invoice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkoutToHostedPage, launchBrowser, shopLogin, submitCard } from './support/browser.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { DEMO } from './support/factories.ts';

describe('paying in Chromium with the three services running', () => {
  let system: LaunchedSystem;
  let urls: Map<string, string>;

  before(async () => {
    system = await launchSystem({}, { tls: true });
    urls = new Map(Object.entries(system.urls));
  });

  after(() => system.stop());

  it('buys, pays with 4242 4242 4242 4242 on the hosted page, and sees the invoice turn paid without reloading', async () => {
    const shop = urls.get('shop')!;
    const gateway = urls.get('gateway')!;
    const browser = await launchBrowser({ args: [...system.browserArgs] });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await shopLogin(page, shop, ...DEMO.customer);
      await checkoutToHostedPage(page, shop, gateway, { name: 'Ada Lovelace', street: '1 Analytical Street' });

      // The invoice page, open in another tab, joins its room and waits.
      const sessionStatus = (await (
        await system.fetch(`${gateway}/pay/${page.url().split('/').pop()}/status`)
      ).json()) as Record<string, unknown>;
      assert.ok(sessionStatus);
      const orders = await context.newPage();
      await orders.goto(`${shop}/orders`);
      const invoiceHref = await orders.locator('a[href^="/invoices/inv_"]').first().getAttribute('href');
      const watcher = await context.newPage();
      await watcher.goto(`${shop}${invoiceHref}`);
      await watcher.waitForSelector('#invoice-status[data-live="true"]', { timeout: 10_000 });
      await watcher.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
      });
      assert.equal((await watcher.getByTestId('invoice-status').textContent())?.trim(), 'open');

      await submitCard(page, '4242 4242 4242 4242', 'Ada Lovelace');
      await page.waitForSelector('#stage:has-text("Paid")', { timeout: 20_000 });

      await watcher.waitForSelector('[data-testid="invoice-status"].paid', { timeout: 15_000 });
      assert.equal(
        await watcher.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
        true,
        'updated without a reload',
      );
      assert.match((await watcher.locator('#payment-message').textContent()) ?? '', /Paid/);

      await page.click('#return');
      await page.waitForURL(new RegExp(`^${shop}/invoices/inv_\\w+\\?from=gateway`));
      assert.equal((await page.getByTestId('invoice-status').textContent())?.trim(), 'paid');
      await context.close();
    } finally {
      await browser.close();
    }
  });

  it('a declined card (4000 0000 0000 0002) leaves the invoice open; "Pay now" again on the same invoice pays with 4242', async () => {
    const shop = urls.get('shop')!;
    const gateway = urls.get('gateway')!;
    const browser = await launchBrowser({ args: [...system.browserArgs] });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await shopLogin(page, shop, ...DEMO.other);
      await checkoutToHostedPage(page, shop, gateway, { name: 'Grace Hopper', street: '2 Compiler Road' });
      const firstSession = page.url();
      const card = async (number: string) => {
        await page.fill('#number', number);
        await page.fill('#exp', '12/34');
        await page.fill('#cvc', '123');
        await page.fill('#name', 'Grace Hopper');
        await page.click('#submit');
      };
      await card('4000 0000 0000 0002');
      await page.waitForSelector('#stage:has-text("declined")', { timeout: 20_000 });
      await page.click('#return');
      await page.waitForURL(new RegExp(`^${shop}/invoices/inv_\\w+\\?from=gateway`));
      const invoiceUrl = page.url().split('?')[0]!;
      assert.equal((await page.getByTestId('invoice-status').textContent())?.trim(), 'open');
      await page.getByRole('button', { name: /Pay now/ }).click();
      await page.waitForURL(new RegExp(`^${gateway}/pay/ps_`));
      assert.notEqual(page.url(), firstSession, 'a new attempt and session');
      await card('4242 4242 4242 4242');
      await page.waitForSelector('#stage:has-text("Paid")', { timeout: 20_000 });
      await page.click('#return');
      await page.waitForURL(new RegExp(`^${invoiceUrl}`));
      assert.equal((await page.getByTestId('invoice-status').textContent())?.trim(), 'paid');
      assert.equal(await page.getByTestId('attempt-row').count(), 2, 'two attempts on the one invoice');
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
