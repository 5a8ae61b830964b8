// What the payer sees, in Chromium against the three services started as real processes (`src/main.ts`):
// a replaced invoice closes its payment page before a card is typed; the bank deciding by itself is not
// called an approval in the bank app; the invoice page follows every payment outcome live (paid, declined)
// in words, with order and invoice numbers instead of ids; the hosted page offers a way back before
// paying, counts down the bank's approval time, warns before leaving mid-payment and forgets an old
// gateway error on reload; "Check payment status" says what it found. Screenshots go to /tmp/payer-shots/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkoutToHostedPage, launchBrowser, shopLogin, submitCard } from './support/browser.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { DEMO } from './support/factories.ts';

const SHOTS = '/tmp/payer-shots';

describe('what the payer sees, in Chromium with the three services running', () => {
  let system: LaunchedSystem | undefined;
  let browser: Browser | undefined;
  let customer: BrowserContext;
  let shop = '';
  let gateway = '';
  // The order paid in full by the second case (for the access, numbering and refund cases).
  let paid = { invoiceUrl: '', orderUrl: '' };

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    system = await launchSystem();
    shop = system.urls.shop;
    gateway = system.urls.gateway;
    browser = await launchBrowser({ args: [...system.browserArgs] });
    customer = await browser.newContext();
    const login = await customer.newPage();
    await shopLogin(login, shop, ...DEMO.customer);
    await login.close();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await system?.stop();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

  /** Checkout → "Pay now" → the hosted page; the newest order's invoice URL and order URL. */
  async function startPaying(): Promise<{ page: Page; sessionId: string; invoiceUrl: string; orderUrl: string }> {
    const page = await customer.newPage();
    const sessionId = await checkoutToHostedPage(page, shop, gateway, {
      name: 'Ada Lovelace',
      street: '1 Analytical St',
    });
    const orders = await customer.newPage();
    await orders.goto(`${shop}/orders`);
    const row = orders.getByTestId('order-row').first();
    const invoiceUrl = (await row.locator('a[href^="/invoices/"]').getAttribute('href'))!;
    const orderUrl = (await row.locator('a[href^="/orders/"]').first().getAttribute('href'))!;
    await orders.close();
    return { page, sessionId, invoiceUrl, orderUrl };
  }

  /** The invoice page in another tab, live. */
  async function watch(invoiceUrl: string): Promise<Page> {
    const watcher = await customer.newPage();
    await watcher.goto(`${shop}${invoiceUrl}`);
    await watcher.waitForSelector('#invoice-status[data-live="true"]', { timeout: 10_000 });
    return watcher;
  }

  it('closes the payment page of a replaced invoice before a card is typed', async () => {
    const { page, invoiceUrl, orderUrl } = await startPaying();
    assert.equal(await page.locator('#card-form').isVisible(), true);
    // Another tab changes the delivery: a new invoice, the old one voided.
    const other = await customer.newPage();
    await other.goto(`${shop}${orderUrl}`);
    await other.locator('#delivery-change').selectOption({ index: 0 });
    await other.getByRole('button', { name: 'Change delivery' }).click();
    await other.waitForURL(`${shop}${orderUrl}`);
    // The old payment page, reloaded: closed, no card form, a way back to the shop.
    await page.reload();
    await page.waitForSelector('#stage:has-text("closed this payment page")', { timeout: 15_000 });
    assert.equal(await page.locator('#card-form').isVisible(), false, 'no card form');
    assert.equal(await page.locator('#return').isVisible(), true, 'a way back to the shop');
    assert.equal(await page.locator('#cancel').isVisible(), false);
    assert.equal(await page.locator('#countdown').isVisible(), false);
    await shot(page, '1-replaced-pay-page');
    // The old invoice says it was replaced, in words.
    await other.goto(`${shop}${invoiceUrl}`);
    assert.equal((await other.getByTestId('invoice-status').textContent())?.trim(), 'voided');
    assert.match(await other.getByTestId('payment-message').innerText(), /replaced by a new one/);
    assert.match(await other.getByTestId('invoice-valid').innerText(), /^No: it was replaced/);
    await shot(other, '1-replaced-invoice');
    await page.close();
    await other.close();
  });

  it('says the bank is deciding (no bank-app approval) for 4000 0000 0000 0077, then paid; the open invoice page follows everything live', async () => {
    const { page, invoiceUrl, orderUrl } = await startPaying();
    paid = { invoiceUrl, orderUrl };
    const watcher = await watch(invoiceUrl);
    await watcher.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    assert.equal(await watcher.getByTestId('attempt-status').first().innerText(), 'payment page opened');
    assert.equal(await watcher.locator('#pay-actions').isVisible(), true);
    await submitCard(page, '4000 0000 0000 0077', 'Ada Lovelace');
    await page.waitForSelector('#stage:has-text("Your bank is checking this payment")', { timeout: 15_000 });
    const stage = await page.locator('#stage').innerText();
    assert.doesNotMatch(stage, /bank app/, stage);
    assert.match(stage, /you need do nothing/);
    assert.equal(await page.locator('#countdown').isVisible(), false, 'no countdown while the bank decides');
    await shot(page, '2-bank-deciding');
    await page.waitForSelector('#stage:has-text("Paid")', { timeout: 20_000 });
    // The invoice tab, never reloaded: every part of it moved on.
    await watcher.waitForSelector('[data-testid="invoice-status"].paid', { timeout: 15_000 });
    await watcher.waitForFunction(
      () => document.querySelector('[data-testid="attempt-status"]')?.textContent === 'paid',
      undefined,
      { timeout: 10_000 },
    );
    assert.equal(await watcher.locator('#pay-actions').count(), 0, 'no "Pay now" on a paid invoice');
    assert.equal(await watcher.getByRole('button', { name: /Pay now/ }).count(), 0);
    assert.match(await watcher.getByTestId('invoice-valid').innerText(), /^Already paid on /);
    assert.match(await watcher.getByTestId('payment-message').innerText(), /Paid — thank you\. See the receipt/);
    assert.equal(await watcher.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    const text = await watcher.locator('main').innerText();
    assert.doesNotMatch(text, /ord_|inv_|ps_|pay_/, 'no internal ids on the customer page');
    assert.match(await watcher.getByTestId('invoice-order').innerText(), /^Order \d+$/);
    await shot(watcher, '3-paid-live');
    await page.close();
    await watcher.close();
  });

  it('explains a decline live on the open invoice page and after "Return to shop", with what to do next', async () => {
    const { page, invoiceUrl } = await startPaying();
    const watcher = await watch(invoiceUrl);
    await submitCard(page, '4000 0000 0000 9995', 'Ada Lovelace');
    await page.waitForSelector('#stage:has-text("declined")', { timeout: 15_000 });
    const outcome = watcher.getByTestId('payment-outcome');
    await outcome.waitFor({ timeout: 15_000 });
    assert.match(
      await outcome.innerText(),
      /declined: there were not enough funds on the card\. You were not charged\./,
    );
    assert.match(await outcome.innerText(), /Pay now/);
    assert.equal(await watcher.getByTestId('attempt-status').first().innerText(), 'declined');
    assert.equal(await watcher.locator('#pay-actions').isVisible(), true, 'can try again');
    await shot(watcher, '4-declined-live');
    await page.getByRole('link', { name: /Return to/ }).click();
    await page.waitForURL(new RegExp(`^${shop}/invoices/`));
    assert.match(await page.getByTestId('payment-outcome').innerText(), /not enough funds/);
    assert.doesNotMatch(await page.getByTestId('payment-message').innerText(), /being processed/);
    await shot(page, '4-declined-returned');
    await page.close();
    await watcher.close();
  });

  it('on the hosted page: a way back before paying, the bank-app countdown, a warning before leaving mid-payment', async () => {
    const { page } = await startPaying();
    const cancel = page.locator('#cancel');
    assert.equal(await cancel.isVisible(), true);
    assert.match(await cancel.innerText(), /Cancel and go back to/);
    assert.match((await cancel.getAttribute('href'))!, new RegExp(`^${shop}/invoices/`));
    await shot(page, '5-hosted-before-paying');
    await submitCard(page, '4000 0025 0000 3155', 'Ada Lovelace');
    await page.waitForSelector('#stage:has-text("approval in your bank app")', { timeout: 15_000 });
    await page.waitForSelector('#countdown:has-text("Approve in your bank app within")', { timeout: 5_000 });
    // The bank's 2 minutes, not the session's 30.
    assert.match(await page.locator('#countdown').innerText(), /within (2:00|1:[0-5]\d)$/);
    assert.equal(await cancel.isVisible(), false, 'no way out mid-payment but the browser');
    await shot(page, '5-hosted-approval-countdown');
    await page.click('h1'); // Chromium shows the prompt only after a user gesture
    const dialog = new Promise<string>((resolve) =>
      page.once('dialog', async (d) => {
        const type = d.type();
        await d.accept();
        resolve(type);
      }),
    );
    await page.close({ runBeforeUnload: true });
    assert.equal(await dialog, 'beforeunload');
  });

  it('forgets an old gateway error on reload, and "Check payment status" says what it found', async () => {
    const { page, orderUrl } = await startPaying();
    await submitCard(page, '4000 0000 0000 0119', 'Ada Lovelace');
    await page.waitForSelector('#stage:has-text("gateway error")', { timeout: 15_000 });
    await page.reload();
    await page.waitForSelector('#card-form:not([hidden])');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(await page.locator('#stage').innerText(), '', 'no old error after a reload');
    assert.equal(await page.locator('#cancel').isVisible(), true);
    await page.close();
    const orders = await customer.newPage();
    await orders.goto(`${shop}/orders`);
    const row = orders.getByTestId('order-row').filter({ has: orders.locator(`a[href="${orderUrl}"]`) });
    await row.getByRole('button', { name: 'Check payment status' }).click();
    await orders.waitForURL(new RegExp(`^${shop}/invoices/`));
    assert.match(
      await orders.getByTestId('payment-checked').innerText(),
      /^Checked with the payment service just now: no payment has arrived yet\.$/,
    );
    await shot(orders, '5-check-payment-status');
    await orders.close();
  });

  it('shows an anonymous visitor "Access denied" with a login that comes back to the invoice', async () => {
    const visitor = await browser!.newContext();
    try {
      const page = await visitor.newPage();
      await page.goto(`${shop}${paid.invoiceUrl}`);
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Access denied');
      assert.match(await page.getByTestId('login-required').innerText(), /Log in to see it/);
      assert.doesNotMatch(await page.locator('main').innerText(), /€|Order \d/, 'nothing of the invoice shown');
      await shot(page, '6-anonymous-access-denied');
      await page.getByLabel('Email').fill(DEMO.customer[0]);
      await page.getByLabel('Password').fill(DEMO.customer[1]);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${shop}${paid.invoiceUrl}`);
      assert.equal((await page.getByTestId('invoice-status').textContent())?.trim(), 'paid');
    } finally {
      await visitor.close();
    }
  });

  for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example/']) {
    it(`returns to the shop, not elsewhere, after a login with ?next=${next}`, async () => {
      const visitor = await browser!.newContext();
      try {
        const page = await visitor.newPage();
        await page.goto(`${shop}/login?next=${encodeURIComponent(next)}`);
        assert.equal(await page.getByTestId('login-required').count(), 0);
        await page.getByLabel('Email').fill(DEMO.customer[0]);
        await page.getByLabel('Password').fill(DEMO.customer[1]);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.waitForLoadState();
        assert.equal(page.url(), `${shop}/`);
      } finally {
        await visitor.close();
      }
    });
  }

  it('tells another customer only "Access denied" for the invoice and its order, and refuses them its live channel', async () => {
    const stranger = await browser!.newContext();
    try {
      const page = await stranger.newPage();
      await shopLogin(page, shop, ...DEMO.other);
      const orderNumber = (await (await customer.newPage()).goto(`${shop}${paid.orderUrl}`))!;
      const ownerHtml = await orderNumber.text();
      const number = /data-testid="order-number">(\d+)</.exec(ownerHtml)![1]!;
      for (const url of [paid.invoiceUrl, paid.orderUrl, `${paid.orderUrl}/receipt`]) {
        const res = await page.goto(`${shop}${url}`);
        assert.equal(res?.status(), 404, url);
        assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Access denied');
        const html = await page.content();
        assert.doesNotMatch(html, /17\.40|inv_|ord_|ps_/, `${url} leaks nothing`);
        assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(`\\b${number}\\b`));
      }
      const invoiceId = paid.invoiceUrl.split('/').pop()!;
      const answer = (p: Page) =>
        p.evaluate(
          (room) =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
              ws.onopen = () => ws.send(JSON.stringify({ type: 'join', room }));
              ws.onmessage = (m) => {
                const f = JSON.parse(String(m.data)) as { type: string };
                if (f.type === 'joined' || f.type === 'error') resolve(f.type);
              };
              ws.onclose = () => resolve('closed');
            }),
          `invoice:${invoiceId}`,
        );
      assert.notEqual(await answer(page), 'joined', 'another customer cannot listen');
      const owner = await customer.newPage();
      await owner.goto(`${shop}/orders`);
      assert.equal(await answer(owner), 'joined', 'the owner can');
      await owner.close();
    } finally {
      await stranger.close();
    }
  });

  it('shows the order with its number, the country by name, and a refund with the customer text, never staff`s note', async () => {
    const staff = await browser!.newContext();
    try {
      const desk = await staff.newPage();
      await shopLogin(desk, shop, ...DEMO.staff);
      await desk.goto(`${shop}/staff${paid.orderUrl}`);
      await desk.getByLabel('Amount (EUR)').fill('1.00');
      await desk.getByLabel(/Internal reason/).fill('Customer returned part');
      await desk.getByLabel('What the customer is told').selectOption('returned');
      await shot(desk, '8-staff-refund-form');
      await desk.getByRole('button', { name: 'Refund' }).click();
      await desk.waitForLoadState();
      const page = await customer.newPage();
      const deadline = Date.now() + 30_000;
      for (;;) {
        await page.goto(`${shop}${paid.orderUrl}`);
        if ((await page.getByTestId('order-notification').count()) > 0 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 1_000));
      }
      const notice = await page.getByTestId('order-notification').first().innerText();
      assert.equal(notice, '€1.00 has been refunded to your card for the items you returned.');
      const main = await page.locator('main').innerText();
      assert.doesNotMatch(main, /Customer returned part/);
      assert.doesNotMatch(main, /ord_|inv_/);
      assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /^Order \d+$/);
      assert.match(main, /Germany/);
      assert.match(await page.getByTestId('invoice-row').first().innerText(), /^\d+-1\b/);
      await shot(page, '7-8-order-with-refund');
    } finally {
      await staff.close();
    }
  });
});
