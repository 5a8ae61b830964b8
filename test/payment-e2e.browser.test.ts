// The whole payment as a newcomer sees it: `src/main.ts` starts the three services as real processes;
// in Chromium the customer logs in, buys, presses "Pay now", pays with 4242… on the gateway's hosted
// page, and the invoice page open in another tab turns "paid" without a reload (WebSocket), then the
// return link shows the paid invoice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { launchBrowser } from './support/browser.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('paying in Chromium with the three services running', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-pay-e2e-'));
  let launcher: ReturnType<typeof spawn>;
  const urls = new Map<string, string>();
  const output: string[] = [];

  before(async () => {
    const ports = { SHOP_PORT: await freePort(), GATEWAY_PORT: await freePort(), BANK_PORT: await freePort() };
    launcher = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stderr!.on('data', (d) => output.push(String(d)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready in 60 s:\n${output.join('')}`)), 60_000);
      launcher.once('exit', (code) => reject(new Error(`launcher exited ${code}:\n${output.join('')}`)));
      createInterface({ input: launcher.stdout! }).on('line', (line) => {
        output.push(`${line}\n`);
        const m = /^(shop|gateway|bank)\s+(http:\/\/\S+)$/.exec(line);
        if (m) urls.set(m[1]!, m[2]!);
        if (line.startsWith('ready in')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });

  after(async () => {
    if (launcher.exitCode === null) {
      launcher.kill('SIGINT');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          launcher.kill('SIGKILL');
          r();
        }, 10_000);
        launcher.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('buys, pays with 4242 4242 4242 4242 on the hosted page, and sees the invoice turn paid without reloading', async () => {
    const shop = urls.get('shop')!;
    const gateway = urls.get('gateway')!;
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${shop}/login`);
      await page.getByLabel('Email').fill('customer@shop.test');
      await page.getByLabel('Password').fill('demo-customer-password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.goto(`${shop}/`);
      await page.getByRole('link', { name: 'Enamel mug' }).click();
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.goto(`${shop}/checkout`);
      await page.getByRole('link', { name: 'Continue to delivery' }).click();
      await page.getByRole('button', { name: 'Continue to address' }).click();
      await page.getByLabel('Full name').fill('Ada Lovelace');
      await page.getByLabel('Street and number').fill('1 Analytical Street');
      await page.getByLabel('Postal code').fill('10115');
      await page.getByLabel('City').fill('Berlin');
      await page.getByLabel('Country (two letters)').fill('DE');
      await page.getByRole('button', { name: 'Continue to payment' }).click();
      await page.getByRole('button', { name: 'Pay now' }).click();
      await page.waitForURL(new RegExp(`^${gateway}/pay/ps_`));

      // The invoice page, open in another tab, joins its room and waits.
      const sessionStatus = (await (await fetch(`${gateway}/pay/${page.url().split('/').pop()}/status`)).json()) as Record<string, unknown>;
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

      await page.fill('#number', '4242 4242 4242 4242');
      await page.fill('#exp', '12/34');
      await page.fill('#cvc', '123');
      await page.fill('#name', 'Ada Lovelace');
      await page.click('#submit');
      await page.waitForSelector('#stage:has-text("Paid")', { timeout: 20_000 });

      await watcher.waitForSelector('[data-testid="invoice-status"].paid', { timeout: 15_000 });
      assert.equal(await watcher.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'updated without a reload');
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
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${shop}/login`);
      await page.getByLabel('Email').fill('other@shop.test');
      await page.getByLabel('Password').fill('demo-other-password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.goto(`${shop}/`);
      await page.getByRole('link', { name: 'Enamel mug' }).click();
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await page.goto(`${shop}/checkout`);
      await page.getByRole('link', { name: 'Continue to delivery' }).click();
      await page.getByRole('button', { name: 'Continue to address' }).click();
      await page.getByLabel('Full name').fill('Grace Hopper');
      await page.getByLabel('Street and number').fill('2 Compiler Road');
      await page.getByLabel('Postal code').fill('10115');
      await page.getByLabel('City').fill('Berlin');
      await page.getByLabel('Country (two letters)').fill('DE');
      await page.getByRole('button', { name: 'Continue to payment' }).click();
      await page.getByRole('button', { name: 'Pay now' }).click();
      await page.waitForURL(new RegExp(`^${gateway}/pay/ps_`));
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
