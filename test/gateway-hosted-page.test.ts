// The hosted payment page in a real Chromium: merchant, amount, reference, countdown and test cards
// shown; a strict CSP with no inline script (and no violation while paying); inline card errors;
// each stage shown live until "Paid", a decline, or the shop's refusal ("you were not charged"),
// then "Return to merchant". The bank is faked behind the issuer port; the rest is real.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { launchBrowser, withPage } from './support/browser.ts';
import type { Browser, Page } from 'playwright-core';

describe('hosted payment page (Chromium)', () => {
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let shop: Awaited<ReturnType<typeof webhookReceiver>>;
  let browser: Browser;
  let n = 0;

  before(async () => {
    shop = await webhookReceiver();
    gw = await startTestGateway('pglite', { webhookUrl: shop.url });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await shop?.close();
  });

  async function newSession() {
    const res = await gw.api('/v1/payment_sessions', {
      body: {
        amount: { minor: '4250', currency: 'EUR' },
        merchant_reference: `INV-${++n}`,
        description: 'Two mugs',
        return_url: 'http://shop.test/return',
      },
    });
    return (await res.json()) as { id: string; hosted_url: string };
  }

  async function fill(page: Page, number: string) {
    await page.fill('#number', number);
    await page.fill('#exp', '12/34');
    await page.fill('#cvc', '123');
    await page.fill('#name', 'Test Payer');
    await page.click('#submit');
  }

  function watchCsp(page: Page): string[] {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    return violations;
  }

  it('shows the merchant, amount, reference, countdown and test cards under a strict CSP', async () => {
    const s = await newSession();
    const res = await fetch(s.hosted_url);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /default-src 'none'/);
    assert.ok(!csp.includes('unsafe-inline'));
    const html = await res.text();
    assert.ok(!/<script(?![^>]*src=)[^>]*>/.test(html), 'no inline script');
    await withPage(browser, async (page) => {
      const violations = watchCsp(page);
      await page.goto(s.hosted_url);
      assert.equal(await page.textContent('h1'), 'Countersign demo shop');
      assert.equal(await page.textContent('#amount'), '€42.50');
      assert.equal(await page.textContent('#reference'), `INV-${n}`);
      await page.waitForFunction(() =>
        /expires in \d+:\d\d/.test(document.querySelector('#countdown')?.textContent ?? ''),
      );
      assert.ok((await page.textContent('body'))!.includes('4000002500003155'));
      assert.deepEqual(violations, []);
    });
  });

  it('shows inline errors for a bad card number, and paying with the approved card ends in "Paid" with a way back', async () => {
    const s = await newSession();
    await withPage(browser, async (page) => {
      const violations = watchCsp(page);
      await page.goto(s.hosted_url);
      await fill(page, '4242424242424241');
      await page.waitForSelector('#error-number:has-text("not valid")');
      assert.equal(gw.issuer.count(`authorize:${s.id}`), 0, 'a Luhn failure never leaves the page');
      await page.fill('#number', '4242 4242 4242 4242');
      await page.click('#submit');
      await page.waitForSelector('#stage:has-text("Paid")', { timeout: 15_000 });
      assert.equal(await page.isVisible('#return'), true);
      assert.equal(await page.getAttribute('#return', 'href'), 'http://shop.test/return');
      assert.deepEqual(violations, []);
    });
    assert.equal(gw.issuer.count(`authorize:${s.id}`), 1);
  });

  it('a declined card says declined and not charged', async () => {
    const s = await newSession();
    await withPage(browser, async (page) => {
      await page.goto(s.hosted_url);
      await fill(page, '4000000000000002');
      await page.waitForSelector('#stage:has-text("declined")');
      assert.match((await page.textContent('#stage'))!, /not charged/);
    });
  });

  it('shows waiting for bank approval, then the shop refusing: "you were not charged"', async () => {
    shop.setRespond((_r, res) => void res.writeHead(409).end('{"error":{"code":"invoice.not_valid","message":"no"}}'));
    const s = await newSession();
    await withPage(browser, async (page) => {
      await page.goto(s.hosted_url);
      await fill(page, '4000002500003155');
      await page.waitForSelector('#stage:has-text("approval in your bank app")');
      const auth = await eventually(() =>
        [...gw.issuer.authorizations.values()].find((a) => a.request.gatewayRef === s.id),
      );
      gw.issuer.decide(auth.id, 'approved');
      // The cardholder approved; the bank's callback brings the news.
      const { signRequest } = await import('../src/core/request-signature.ts');
      const body = JSON.stringify({
        callback_id: `bcb_${s.id}`,
        type: 'authorization.approved',
        authorization_id: auth.id,
        gateway_ref: s.id,
      });
      const headers = signRequest({
        method: 'POST',
        target: '/bank/callbacks',
        id: `sreq_${s.id}`,
        timestamp: new Date(),
        body,
        secrets: [gw.bankCallbackSecret],
      });
      assert.equal(
        (await fetch(`${gw.url}/bank/callbacks`, { method: 'POST', headers: { ...headers }, body })).status,
        200,
      );
      await page.waitForSelector('#stage:has-text("not charged")', { timeout: 15_000 });
      assert.match((await page.textContent('#stage'))!, /shop could not accept/);
    });
  });

  it('a cancelled session shows that it cannot be paid', async () => {
    const s = await newSession();
    await gw.api(`/v1/payment_sessions/${s.id}/cancel`, { method: 'POST' });
    await withPage(browser, async (page) => {
      await page.goto(s.hosted_url);
      // The shop closed it (its invoice was replaced or can no longer be paid): said before a card is typed.
      await page.waitForSelector('#stage:has-text("closed this payment page")');
      assert.match((await page.textContent('#stage'))!, /not charged/);
      assert.equal(await page.isVisible('#card-form'), false);
    });
  });
});
