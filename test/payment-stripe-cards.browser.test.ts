// The special test cards end to end with the shop on its Stripe adapter: `countersign start --gateway
// stripe` starts the three services once as real processes (bank approval timeout shortened to 8 s);
// the shop talks to our gateway's Stripe API with the official SDK and learns of payments from signed
// Stripe webhooks. In Chromium the customer buys, presses "Pay now" and pays on the Checkout Session's
// hosted page while the invoice page waits in another tab; a second browser context is the cardholder
// in the bank app. Each case checks what the customer sees and the gateway's PaymentIntent, read with
// the SDK as the merchant would (succeeded only when paid; a decline leaves it waiting for a card).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import Stripe from 'stripe';
import { checkoutToHostedPage, launchBrowser, shopLogin, submitCard } from './support/browser.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { DEMO } from './support/factories.ts';

describe('special test cards in Chromium with the shop on Stripe (countersign start --gateway stripe)', () => {
  let system: LaunchedSystem | undefined;
  let shop: string;
  let gateway: string;
  let browser: Browser | undefined;
  let customer: BrowserContext;
  let app: Page;
  let stripe: Stripe;

  before(async () => {
    system = await launchSystem({ BANK_APPROVAL_TIMEOUT_SECONDS: '8' }, { args: ['--gateway', 'stripe'] });
    shop = system.urls.shop;
    gateway = system.urls.gateway;
    const { hostname, port } = new URL(gateway);
    stripe = new Stripe(system.demoMerchantStripeApiKey(), {
      host: hostname,
      port: Number(port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });

    browser = await launchBrowser({ args: [...system.browserArgs] });
    customer = await browser.newContext();
    const login = await customer.newPage();
    await shopLogin(login, shop, ...DEMO.customer);
    await login.close();

    const cardholder = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    app = await cardholder.newPage();
    await app.goto(`${system.urls.bank}/login`);
    await app.fill('#email', 'demo@bank.test');
    await app.fill('#password', 'demo-bank-password');
    await app.click('button[type=submit]');
    await app.waitForSelector('body[data-live="true"]');
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await system?.stop();
  });

  /** The Checkout Session behind a hosted page (`/pay/ps_X` is `cs_X`) and its PaymentIntent, as the merchant reads them. */
  async function atStripe(sessionId: string) {
    const cs = await stripe.checkout.sessions.retrieve(`cs_${sessionId.slice(3)}`, { expand: ['payment_intent'] });
    return { cs, pi: cs.payment_intent as Stripe.PaymentIntent };
  }

  /** The invoice page of the newest order, open and live in its own tab (marked to tell a reload). */
  async function watchNewestInvoice(): Promise<Page> {
    const orders = await customer.newPage();
    await orders.goto(`${shop}/orders`);
    const invoiceHref = await orders.locator('a[href^="/invoices/inv_"]').first().getAttribute('href');
    await orders.close();
    return watchInvoice(`${shop}${invoiceHref}`);
  }

  async function watchInvoice(url: string): Promise<Page> {
    const watcher = await customer.newPage();
    await watcher.goto(url);
    await watcher.waitForSelector('#invoice-status[data-live="true"]', { timeout: 10_000 });
    await watcher.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    assert.equal((await watcher.getByTestId('invoice-status').textContent())?.trim(), 'open');
    return watcher;
  }

  /** Shop checkout → "Pay now" → the Checkout Session's hosted page; the invoice page waits; card submitted. */
  async function buyAndPay(card: string): Promise<{ page: Page; watcher: Page; sessionId: string }> {
    const page = await customer.newPage();
    const sessionId = await checkoutToHostedPage(page, shop, gateway, {
      name: 'Ada Lovelace',
      street: '1 Analytical Street',
    });
    // A Checkout Session exists only for a session the shop opened through Stripe's API.
    const { cs, pi } = await atStripe(sessionId);
    assert.equal(cs.status, 'open');
    assert.equal(pi.capture_method, 'manual', 'the shop captures after it accepted the payment');
    const watcher = await watchNewestInvoice();
    await submitCard(page, card, 'Ada Lovelace');
    return { page, watcher, sessionId };
  }

  async function expectPaid(page: Page, watcher: Page, sessionId: string): Promise<void> {
    await page.waitForSelector('#stage:has-text("Paid")', { timeout: 30_000 });
    await watcher.waitForSelector('[data-testid="invoice-status"].paid', { timeout: 15_000 });
    assert.equal((await watcher.getByTestId('invoice-status').textContent())?.trim(), 'paid');
    assert.equal(
      await watcher.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
      'updated without a reload',
    );
    assert.match((await watcher.locator('#payment-message').textContent()) ?? '', /Paid/);
    const { cs, pi } = await atStripe(sessionId);
    assert.equal(pi.status, 'succeeded', 'captured by the shop');
    assert.equal(pi.amount_received, pi.amount);
    assert.ok(pi.amount > 0);
    assert.deepEqual([cs.status, cs.payment_status], ['complete', 'paid']);
    await page.close();
    await watcher.close();
  }

  /** Declined on the hosted page: nothing charged, the invoice open, and "Pay now (try again)" offered. */
  async function expectNotCharged(page: Page, watcher: Page, sessionId: string, reasonText: RegExp) {
    await page.waitForSelector('#stage:has-text("declined")', { timeout: 20_000 });
    const stage = (await page.textContent('#stage')) ?? '';
    assert.match(stage, /not charged/);
    assert.match(stage, reasonText);
    const { pi } = await atStripe(sessionId);
    assert.equal(pi.status, 'requires_payment_method', 'the PaymentIntent waits for another card');
    assert.ok(pi.last_payment_error, 'with the failed attempt');
    assert.equal(pi.amount_received, 0, 'nothing captured');
    // The shop learns of the decline from Stripe's payment_intent.payment_failed: the invoice stays open.
    await watcher.waitForSelector('[data-testid="payment-outcome"]', { timeout: 15_000 });
    assert.match((await watcher.getByTestId('payment-outcome').textContent()) ?? '', /declined.*not charged/s);
    assert.equal((await watcher.getByTestId('invoice-status').textContent())?.trim(), 'open');
    await page.close();
    return watcher;
  }

  const pendingRequest = () =>
    app
      .locator('[data-approval-id]')
      .filter({ has: app.getByRole('button', { name: 'Approve' }) })
      .first();

  it('4242 4242 4242 4242: paid, the invoice turns paid without a reload, and the PaymentIntent is captured', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4242 4242 4242 4242');
    await expectPaid(page, watcher, sessionId);
  });

  it('4000 0025 0000 3155 approved in the bank app: paid and captured', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0025 0000 3155');
    await page.waitForSelector('#stage:has-text("approval in your bank app")', { timeout: 15_000 });
    assert.equal((await atStripe(sessionId)).pi.status, 'requires_action', 'Stripe: waiting for the cardholder');
    const request = pendingRequest();
    await request.waitFor({ timeout: 10_000 });
    await request.getByRole('button', { name: 'Approve' }).click();
    await expectPaid(page, watcher, sessionId);
  });

  it('4000 0025 0000 3155 declined in the bank app: not charged; "Pay now (try again)" with 4242 pays the same invoice', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0025 0000 3155');
    await page.waitForSelector('#stage:has-text("approval in your bank app")', { timeout: 15_000 });
    const request = pendingRequest();
    await request.waitFor({ timeout: 10_000 });
    await request.getByRole('button', { name: 'Decline' }).click();
    await expectNotCharged(page, watcher, sessionId, /bank app/);
    const invoiceUrl = watcher.url();

    // The customer tries again from the invoice page: a new Checkout Session for the same invoice.
    await watcher.getByRole('button', { name: 'Pay now (try again)' }).click();
    await watcher.waitForURL(new RegExp(`^${gateway}/pay/ps_`));
    const retry = watcher.url().split('/').pop()!.split(/[?#]/)[0]!;
    assert.notEqual(retry, sessionId, 'a new Checkout Session');
    const again = await watchInvoice(invoiceUrl);
    await submitCard(watcher, '4242 4242 4242 4242', 'Ada Lovelace');
    await expectPaid(watcher, again, retry);
    assert.equal((await atStripe(sessionId)).pi.amount_received, 0, 'the declined attempt never charged');
  });

  it('4000 0000 0000 3220 approval times out (8 s): declined, not charged, the invoice stays open', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0000 0000 3220');
    await page.waitForSelector('#stage:has-text("approval in your bank app")', { timeout: 15_000 });
    await page.waitForSelector('#stage:has-text("timed out")', { timeout: 20_000 });
    await (await expectNotCharged(page, watcher, sessionId, /timed out/)).close();
  });

  it('4000 0000 0000 0077 processing delay: paid after a few seconds', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0000 0000 0077');
    const submitted = Date.now();
    await page.waitForSelector('#stage:has-text("Paid")', { timeout: 30_000 });
    assert.ok(Date.now() - submitted >= 2_000, 'the bank held the payment for a few seconds (default 3 s)');
    await expectPaid(page, watcher, sessionId);
  });

  it('4000 0000 0000 9995 insufficient funds: declined, not charged, the invoice stays open and names the reason', async () => {
    const { page, watcher, sessionId } = await buyAndPay('4000 0000 0000 9995');
    await expectNotCharged(page, watcher, sessionId, /insufficient funds/);
    assert.match((await watcher.getByTestId('payment-outcome').textContent()) ?? '', /not enough funds/);
    assert.equal((await atStripe(sessionId)).pi.last_payment_error?.decline_code, 'insufficient_funds');
    await watcher.close();
  });
});
