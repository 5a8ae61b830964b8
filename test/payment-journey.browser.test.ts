// The journey page in a real Chromium: staff follow the link from the order page while the cardholder
// has not answered yet; the page keeps itself current (HTTP Refresh, no script) until the payment has
// settled, and the diagram is drawn legibly under the shop's CSP. The merchant's dashboard shows the
// gateway's and the bank's part the same way. Screenshots go to /tmp for a human to look at.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import type { Browser } from 'playwright-core';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { logIn } from '../src/bank/testing.ts';
import { DEMO_DASHBOARD_OWNER } from '../src/gateway/domain/dashboard-account.rule.ts';
import { launchBrowser, shopLogin, withPage } from './support/browser.ts';
import { DEMO } from './support/factories.ts';
import { startProofSystem, type ProofSystem } from './support/harness/in-process.ts';

describe('the journey page in Chromium', () => {
  let sys: ProofSystem;
  let browser: Browser;

  before(async () => {
    sys = await startProofSystem();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await sys?.stop();
  });

  it("stays live until the payment settles, and draws every party's lane legibly", async () => {
    const customer = await sys.login('customer');
    const paid = await sys.payNow(customer);
    assert.equal((await sys.payCard(paid.sessionId, '4000002500003155')).status, 200);

    await withPage(
      browser,
      async (page) => {
        const violations: string[] = [];
        page.on('console', (m) => {
          if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
        });
        await shopLogin(page, sys.shop.url, DEMO.staff[0], DEMO.staff[1]);
        await page.goto(`${sys.shop.url}/staff/orders/${paid.orderId}`);
        await page.getByRole('link', { name: 'payment journey' }).click();
        await page.waitForURL(/\/journey$/);
        await page.getByText('under way').waitFor();

        // The cardholder approves now; the open page must catch up by itself.
        const holder = await logIn(sys.bank.url, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
        const found = await rows<{ id: string }>(
          sys.bankDb.db,
          sql`select r.id from approval_requests r join authorizations a on a.id = r.authorization_id where a.gateway_ref = ${paid.sessionId}`,
        );
        const approval = found[0]!.id;
        const res = await fetch(`${sys.bank.url}/app/approvals/${approval}/approve`, {
          method: 'POST',
          headers: { cookie: holder.cookie, 'x-csrf-token': holder.csrf, accept: 'application/json' },
        });
        assert.equal(res.status, 200);
        await page.getByText('settled: nothing more will happen by itself.').waitFor({ timeout: 20_000 });

        await page.screenshot({ path: '/tmp/journey-staff.png', fullPage: true });
        const svg = page.locator('[data-testid=journey-diagram] svg');
        const box = await svg.boundingBox();
        await svg.screenshot({ path: '/tmp/journey-staff-diagram.png' });
        // The whole diagram fits the page's column: nothing to scroll to, the record column included.
        const column = await page.locator('main').evaluate((m) => m.clientWidth);
        assert.ok(box && box.width <= column, `the diagram (${box?.width}px) fits the page (${column}px)`);
        assert.ok(
          box && box.width >= 900 && box.height >= 300,
          `the diagram is drawn large enough: ${JSON.stringify(box)}`,
        );
        for (const lane of ['Browser', 'Shop', 'Gateway', 'Bank', 'Bank app'])
          assert.ok(
            await svg.locator('text', { hasText: new RegExp(`^${lane}$`) }).isVisible(),
            `the ${lane} lane has its header`,
          );
        assert.ok(await svg.locator('text', { hasText: /acknowledgement recorded/ }).isVisible());
        assert.ok(
          await svg
            .locator('text', { hasText: /^capture/ })
            .first()
            .isVisible(),
        );
        assert.deepEqual(violations, [], 'nothing refused by the CSP');
      },
      { viewport: { width: 1280, height: 900 } },
    );

    await withPage(
      browser,
      async (page) => {
        await page.goto(`${sys.gateway.url}/dashboard/login`);
        await page.fill('#email', DEMO_DASHBOARD_OWNER.email);
        await page.fill('#password', DEMO_DASHBOARD_OWNER.password);
        await page.click('button[type=submit]');
        await page.waitForURL(`${sys.gateway.url}/dashboard`);
        await page.goto(`${sys.gateway.url}/dashboard/payments/${paid.sessionId}`);
        await page.getByRole('link', { name: 'journey' }).click();
        await page.waitForURL(/\/journey$/);
        const svg = page.locator('[data-testid=journey-diagram] svg');
        assert.ok(await svg.locator('text', { hasText: /^authorise/ }).isVisible(), "the bank's record is drawn");
        assert.ok(await svg.locator('text', { hasText: /^push: approve/ }).isVisible());
        await page.screenshot({ path: '/tmp/journey-dashboard.png', fullPage: true });
      },
      { viewport: { width: 1280, height: 900 } },
    );
  });
});
