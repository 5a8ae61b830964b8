// A merchant in Chromium: signs up on the gateway's dashboard, copies the test key shown once, logs
// out and back in with the e-mail and password, creates a second key, takes a payment through the
// hosted page with the first key, and reads the payment's timeline; no CSP violation anywhere.
// COUNTERSIGN_SCREENSHOTS=<dir> keeps screenshots of each screen.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { launchBrowser, submitCard, withPage } from './support/browser.ts';
import { watchCspViolations } from './support/csp.ts';

const SHOTS = process.env.COUNTERSIGN_SCREENSHOTS;

describe('the merchant dashboard in Chromium', () => {
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let browser: Browser;
  before(async () => {
    hook = await webhookReceiver();
    gw = await startTestGateway('pglite');
    browser = await launchBrowser();
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await hook?.close();
  });
  const shot = async (page: Page, name: string) => {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`), fullPage: true });
  };

  it('sign-up → log in → create a key → a payment and its timeline', async () => {
    await withPage(browser, async (page, context) => {
      const violations = await watchCspViolations(context);
      await page.goto(`${gw.url}/dashboard/login`);
      await shot(page, 'login');
      await page.click('text=Sign up');
      await page.fill('#business_name', 'Chromium Coffee');
      await page.fill('#email', 'barista@coffee.example');
      await page.fill('#password', 'a long espresso password');
      await page.fill('#webhook_url', hook.url);
      await page.click('button[type=submit]');
      const key = (await page.locator('#shown-once code').textContent())!;
      assert.match(key, /^sk_test_/);
      await shot(page, 'welcome');

      await page.click('text=Log out');
      await page.waitForURL(`${gw.url}/dashboard/login`);
      await page.fill('#email', 'BARISTA@coffee.example');
      await page.fill('#password', 'a long espresso password');
      await page.click('button[type=submit]');
      await page.waitForURL(`${gw.url}/dashboard`);
      assert.match(
        (await page.locator('header.top').textContent())!,
        /Chromium Coffee[\s\S]*barista@coffee\.example \(owner\)/,
      );

      await page.click('nav.main >> text=API keys');
      await page.click('text=Create an API key');
      const second = (await page.locator('#shown-once code').textContent())!;
      assert.notEqual(second, key);
      assert.equal(await page.locator(`text=${second.slice(0, 12)}…${second.slice(-4)}`).count(), 1);
      await shot(page, 'keys');

      const res = await gw.api('/v1/payment_sessions', {
        key,
        body: { amount: { minor: '450', currency: 'EUR' }, merchant_reference: 'flat-white-1' },
      });
      const session = (await res.json()) as { id: string; hosted_url: string };
      await page.goto(session.hosted_url);
      await submitCard(page, '4242 4242 4242 4242', 'A Payer');
      await eventually(() =>
        hook.eventsFor(session.id).some((e) => e.type === 'payment.captured') ? true : undefined,
      );

      await page.goto(`${gw.url}/dashboard?q=flat-white`);
      await shot(page, 'payments');
      await page.click(`text=${session.id}`);
      const timeline = page.locator('ol.timeline');
      await timeline.locator('text=Event payment.captured').waitFor();
      const steps = await timeline.locator('.what').allTextContents();
      assert.deepEqual(
        steps.filter((s) => /^(Payment created|Authorised|Acknowledgement|Event payment\.captured)/.test(s)),
        ['Payment created', 'Authorised by the bank', 'Acknowledgement: acknowledged', 'Event payment.captured'],
      );
      assert.ok(steps.some((s) => /^Webhook payment\.authorized: attempt #1 → 200$/.test(s)));
      await shot(page, 'payment');

      await page.click('nav.main >> text=Events');
      await shot(page, 'events');
      for (const path of ['webhooks', 'faults', 'team']) {
        await page.goto(`${gw.url}/dashboard/${path}`);
        await shot(page, path);
      }
      assert.deepEqual(violations, [], 'no CSP violation');
    });
  });
});
