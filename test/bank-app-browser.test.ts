// The bank app in a real Chromium (mobile viewport): the cardholder logs in, an approval request is
// pushed over WebSocket while the page is open, shows merchant, amount and a countdown, and Approve
// or Decline reaches the gateway at once as a signed callback; an unanswered request expires on screen.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { authorizationBody, cardOf, startTestBank, type TestBank } from '../src/bank/testing.ts';
import { launchBrowser } from './support/browser.ts';

describe('bank app in Chromium', () => {
  let t: TestBank;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];

  before(async () => {
    t = await startTestBank('pglite');
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${t.url}/app`);
    assert.match(page.url(), /\/login$/);
    await page.fill('#email', DEMO_CARDHOLDER.email);
    await page.fill('#password', DEMO_CARDHOLDER.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/app$/);
    await page.waitForSelector('body[data-live="true"]');
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function pushRequest(card: string, minor: string, merchant: string) {
    const res = await t.gateway(
      'POST',
      '/api/v1/authorizations',
      authorizationBody(card, { amount: { minor, currency: 'EUR' }, merchant: { name: merchant } }),
    );
    assert.equal(res.body.status, 'pending');
    return res.body as { id: string; gateway_ref: string };
  }

  it('shows a pushed request without a reload and approves it: the gateway is told at once', async () => {
    const auth = await pushRequest(cardOf('requires_approval'), '2599', 'Nordic Lamps');
    const card = page.locator('[data-approval-id]', { hasText: 'Nordic Lamps' });
    await card.waitFor();
    assert.equal(await card.locator('.amount').textContent(), '€25.99');
    assert.match((await card.locator('.left').textContent()) ?? '', /^[12]:\d\d$/);
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.locator('.outcome', { hasText: 'Approved' }).waitFor();
    const callback = await t.callbacks.next((b) => b.authorization_id === auth.id, 5_000);
    assert.equal(callback.type, 'authorization.approved');
    // The hold now shows in the activity list, refreshed live.
    await page.locator('#holds li', { hasText: 'Nordic Lamps' }).waitFor();
  });

  it('declines a request: the gateway hears approval_declined', async () => {
    const auth = await pushRequest(cardOf('requires_approval'), '1000', 'Decline Me Ltd');
    const card = page.locator('[data-approval-id]', { hasText: 'Decline Me Ltd' });
    await card.getByRole('button', { name: 'Decline' }).click();
    await card.locator('.outcome', { hasText: 'Declined' }).waitFor();
    const callback = await t.callbacks.next((b) => b.authorization_id === auth.id, 5_000);
    assert.deepEqual([callback.type, callback.decline_reason], ['authorization.declined', 'approval_declined']);
  });

  it('counts an unanswered request down to expiry: buttons disabled, the gateway hears approval_expired', async () => {
    const auth = await pushRequest(cardOf('approval_timeout'), '500', 'Slow Coffee');
    const card = page.locator('[data-approval-id]', { hasText: 'Slow Coffee' });
    await card.waitFor();
    await card.locator('.outcome', { hasText: 'Expired' }).waitFor({ timeout: 15_000 });
    assert.equal(await card.getByRole('button', { name: 'Approve' }).isDisabled(), true);
    const callback = await t.callbacks.next((b) => b.authorization_id === auth.id, 10_000);
    assert.deepEqual([callback.type, callback.decline_reason], ['authorization.declined', 'approval_expired']);
  });

  it('serves the app under a nonce-based CSP that forbids framing, with no violation while in use', async () => {
    const res = await page.request.get(`${t.url}/app`);
    const csp = res.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'nonce-[^']+'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!csp.includes('unsafe-inline'));
    assert.equal(res.headers()['x-frame-options'], 'DENY');
    assert.deepEqual(cspViolations, []);
  });

  it('lists captures as movements after the gateway captures', async () => {
    const res = await t.gateway(
      'POST',
      '/api/v1/authorizations',
      authorizationBody(cardOf('approved'), {
        amount: { minor: '1999', currency: 'EUR' },
        merchant: { name: 'Captured Books' },
      }),
    );
    await t.gateway('POST', `/api/v1/authorizations/${res.body.id}/capture`, {
      amount: { minor: '1999', currency: 'EUR' },
    });
    await page.reload();
    const row = page.locator('#movements li', { hasText: 'Captured Books' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /−€19\.99/);
  });
});
