// The special test cards end to end, as a newcomer sees them: `src/main.ts` starts the three services
// as real processes once, over https (`--tls`; bank approval timeout shortened to 8 s); in Chromium the customer buys in the
// shop, presses "Pay now" and pays on the gateway's hosted page while the invoice page waits in another
// tab; a second browser context is the cardholder logged into the bank app (`/app`). Each case checks
// what the user sees and the gateway's authoritative session (captured only when paid).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkoutToHostedPage, launchBrowser, shopLogin } from './support/browser.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { DEMO } from './support/factories.ts';

interface Session {
  id: string;
  status: string;
  decline_reason: string | null;
  captured_amount: { minor: string; currency: string } | null;
}

describe('special test cards in Chromium with the three services running', () => {
  let system: LaunchedSystem | undefined;
  let urls: Map<string, string>;
  let browser: Browser | undefined;
  let customer: BrowserContext;
  let app: Page;
  let apiKey: string;

  before(async () => {
    system = await launchSystem({ BANK_APPROVAL_TIMEOUT_SECONDS: '8' }, { tls: true });
    urls = new Map(Object.entries(system.urls));
    apiKey = system.demoMerchantApiKey();

    browser = await launchBrowser({ args: [...system.browserArgs] });
    customer = await browser.newContext();
    const login = await customer.newPage();
    await shopLogin(login, urls.get('shop')!, ...DEMO.customer);
    await login.close();

    const cardholder = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    app = await cardholder.newPage();
    await app.goto(`${urls.get('bank')}/login`);
    await app.fill('#email', 'demo@bank.test');
    await app.fill('#password', 'demo-bank-password');
    await app.click('button[type=submit]');
    await app.waitForSelector('body[data-live="true"]');
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await system?.stop();
  });

  async function session(id: string): Promise<Session> {
    const res = await system!.fetch(`${urls.get('gateway')}/v1/payment_sessions/${id}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Session;
  }

  /** Shop checkout → "Pay now" → hosted page; the invoice page waits live in another tab; card submitted. */
  async function buyAndPay(card: string): Promise<{ page: Page; watcher: Page; sessionId: string }> {
    const shop = urls.get('shop')!;
    const gateway = urls.get('gateway')!;
    const page = await customer.newPage();
    const sessionId = await checkoutToHostedPage(page, shop, gateway, {
      name: 'Ada Lovelace',
      street: '1 Analytical Street',
    });

    // The newest invoice (this order's) opens in another tab and waits for its status live.
    const orders = await customer.newPage();
    await orders.goto(`${shop}/orders`);
    const invoiceHref = await orders.locator('a[href^="/invoices/inv_"]').first().getAttribute('href');
    await orders.close();
    const watcher = await customer.newPage();
    await watcher.goto(`${shop}${invoiceHref}`);
    await watcher.waitForSelector('#invoice-status[data-live="true"]', { timeout: 10_000 });
    await watcher.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    assert.equal((await watcher.getByTestId('invoice-status').textContent())?.trim(), 'open');

    await page.fill('#number', card);
    await page.fill('#exp', '12/34');
    await page.fill('#cvc', '123');
    await page.fill('#name', 'Ada Lovelace');
    await page.click('#submit');
    return { page, watcher, sessionId };
  }

  async function expectPaid(page: Page, watcher: Page, sessionId: string): Promise<void> {
    await page.waitForSelector('#stage:has-text("Paid")', { timeout: 20_000 });
    await watcher.waitForSelector('[data-testid="invoice-status"].paid', { timeout: 15_000 });
    assert.equal((await watcher.getByTestId('invoice-status').textContent())?.trim(), 'paid');
    assert.equal(
      await watcher.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
      'updated without a reload',
    );
    assert.match((await watcher.locator('#payment-message').textContent()) ?? '', /Paid/);
    const s = await session(sessionId);
    assert.equal(s.status, 'captured');
    assert.ok(s.captured_amount && BigInt(s.captured_amount.minor) > 0n, 'a captured amount');
    await page.close();
    await watcher.close();
  }

  async function expectNotCharged(
    page: Page,
    watcher: Page,
    sessionId: string,
    reasonText: RegExp,
    declineReason: string,
  ): Promise<void> {
    await page.waitForSelector('#stage:has-text("declined")', { timeout: 20_000 });
    const stage = (await page.textContent('#stage')) ?? '';
    assert.match(stage, /not charged/);
    assert.match(stage, reasonText);
    const s = await session(sessionId);
    assert.equal(s.status, 'declined');
    assert.equal(s.decline_reason, declineReason);
    assert.ok(s.captured_amount === null || BigInt(s.captured_amount.minor) === 0n, 'nothing captured');
    // The invoice stays open — live and after a reload.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await watcher.getByTestId('invoice-status').textContent())?.trim(), 'open');
    await watcher.reload();
    assert.equal((await watcher.getByTestId('invoice-status').textContent())?.trim(), 'open');
    assert.equal((await session(sessionId)).status, 'declined', 'still not captured');
    await page.close();
    await watcher.close();
  }

  const pendingRequest = () =>
    app
      .locator('[data-approval-id]')
      .filter({ has: app.getByRole('button', { name: 'Approve' }) })
      .first();

  it('4000 0025 0000 3155 approved in the bank app: the invoice turns paid without a reload and the session is captured', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0025 0000 3155');
    await page.waitForSelector('#stage:has-text("approval in your bank app")', { timeout: 15_000 });
    const request = pendingRequest();
    await request.waitFor({ timeout: 10_000 });
    await request.getByRole('button', { name: 'Approve' }).click();
    await expectPaid(page, watcher, sessionId);
  });

  it('4000 0025 0000 3155 declined in the bank app: not charged, the invoice stays open', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0025 0000 3155');
    await page.waitForSelector('#stage:has-text("approval in your bank app")', { timeout: 15_000 });
    const request = pendingRequest();
    await request.waitFor({ timeout: 10_000 });
    await request.getByRole('button', { name: 'Decline' }).click();
    await expectNotCharged(page, watcher, sessionId, /bank app/, 'approval_declined');
  });

  it('4000 0000 0000 3220 approval times out (8 s): declined, not charged, the invoice stays open', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0000 0000 3220');
    await page.waitForSelector('#stage:has-text("approval in your bank app")', { timeout: 15_000 });
    await page.waitForSelector('#stage:has-text("timed out")', { timeout: 20_000 });
    await expectNotCharged(page, watcher, sessionId, /timed out/, 'approval_expired');
  });

  it('4000 0000 0000 0077 processing delay: paid after a few seconds', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0000 0000 0077');
    const submitted = Date.now();
    await page.waitForSelector('#stage:has-text("Paid")', { timeout: 20_000 });
    assert.ok(Date.now() - submitted >= 2_000, 'the bank held the payment for a few seconds (default 3 s)');
    await expectPaid(page, watcher, sessionId);
  });

  it('4000 0000 0000 9995 insufficient funds: declined, not charged, the invoice stays open', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0000 0000 9995');
    await expectNotCharged(page, watcher, sessionId, /insufficient funds/, 'insufficient_funds');
  });
});
