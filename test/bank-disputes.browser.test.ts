// The cardholder's side of a dispute in the bank app, in a real Chromium against a real bank (PGlite):
// a captured payment is listed on the Disputes page; the cardholder picks a reason and disputes it,
// sees it open with the amount credited, and the bank's signed `dispute.opened` callback goes out to
// the gateway (a verifying receiver stands in for it); withdrawing it closes it for the merchant
// (`dispute.closed` won) and takes the provisional credit back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { authorizationBody, cardOf, startTestBank, type TestBank } from '../src/bank/testing.ts';
import { launchBrowser } from './support/browser.ts';

describe('disputing a payment in the bank app (Chromium)', () => {
  let t: TestBank;
  let browser: Browser;
  let page: Page;

  before(async () => {
    t = await startTestBank('pglite', { env: { BANK_DISPUTE_WINDOW_SECONDS: '3600' } });
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    await page.goto(`${t.url}/app`);
    await page.fill('#email', DEMO_CARDHOLDER.email);
    await page.fill('#password', DEMO_CARDHOLDER.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${t.url}/app`);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('disputes a captured payment with a reason, sees it open, and withdraws it', async () => {
    const body = authorizationBody(cardOf('approved'), {
      amount: { minor: '4200', currency: 'EUR' },
      merchant: { name: 'Nordic Lamps' },
    });
    const auth = await t.gateway('POST', '/api/v1/authorizations', body);
    assert.equal(auth.body.status, 'approved');
    const captured = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/capture`, {
      amount: { minor: '4200', currency: 'EUR' },
    });
    assert.equal(captured.body.status, 'captured');

    await page.getByRole('link', { name: 'Disputes' }).click();
    await page.waitForURL(`${t.url}/app/disputes`);
    const row = page.locator(`li[data-payment-id="${auth.body.id}"]`);
    assert.match(await row.innerText(), /Nordic Lamps/);
    assert.equal(await row.locator('input[name=amount]').inputValue(), '42.00');
    await row.locator('select[name=reason]').selectOption('product_not_received');
    await row.getByRole('button', { name: 'Dispute' }).click();
    await page.waitForURL(/\/app\/disputes\?done=opened/);
    assert.match(await page.locator('.notice').innerText(), /credited the amount/);
    const dispute = page.locator('#disputes li').first();
    assert.equal(await dispute.getAttribute('data-status'), 'open');
    assert.match(await dispute.innerText(), /I did not receive what I paid for/);
    assert.match(await page.locator(`li[data-payment-id="${auth.body.id}"]`).innerText(), /disputed/);

    const opened = await t.callbacks.next((b) => b.type === 'dispute.opened');
    assert.equal(opened.gateway_ref, body.gateway_ref);
    assert.equal(opened.amount_minor, '4200');
    assert.equal(opened.currency, 'EUR');
    assert.equal(opened.reason, 'product_not_received');
    const disputeRef = String(opened.dispute_ref);
    assert.equal(await dispute.getAttribute('data-dispute-id'), disputeRef);

    await dispute.getByRole('button', { name: 'Withdraw' }).click();
    await page.waitForURL(/\/app\/disputes\?done=withdrawn/);
    assert.equal(await page.locator('#disputes li').first().getAttribute('data-status'), 'won');
    assert.equal(await page.locator('#disputes li').first().getByRole('button', { name: 'Withdraw' }).count(), 0);
    const closed = await t.callbacks.next((b) => b.type === 'dispute.closed');
    assert.deepEqual({ ref: closed.dispute_ref, outcome: closed.outcome }, { ref: disputeRef, outcome: 'won' });

    // The activity shows the provisional credit and its reversal.
    await page.goto(`${t.url}/app`);
    const activity = await page.locator('#activity').innerText();
    assert.match(activity, /Dispute credit \(provisional\): Nordic Lamps/);
    assert.match(activity, /Dispute decided for Nordic Lamps: credit reversed/);
  });
});
