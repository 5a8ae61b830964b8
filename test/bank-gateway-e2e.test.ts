// End to end with the real gateway (seed 003): the payer on the gateway's hosted page and the
// cardholder in the bank app, two Chromium contexts. "Pay now" with a card that needs approval pushes
// a request to the app; Approve, Decline or silence reaches the gateway through the bank's signed
// callback, and the payer's page moves on without a reload. The shop is a local webhook receiver
// that acknowledges; everything else (gateway, bank, databases, signatures, jobs, sockets) is real.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { freshDatabase } from '../src/platform/db/testing.ts';
import { createLogger } from '../src/platform/log.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { gatewayDatabaseSpec, loadGatewayConfig, startGateway } from '../src/gateway/main.ts';
import { TEST_API_KEY, webhookReceiver } from '../src/gateway/testing.ts';
import { authorizations, movements } from '../src/bank/storage/schema.ts';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { cardOf, startTestBank, type TestBank } from '../src/bank/testing.ts';
import { launchBrowser } from './support/browser.ts';
import { freePort } from './support/harness/wiring.ts';

describe('payment approved, declined or timed out in the bank app, seen on the hosted page (Chromium)', () => {
  let bank: TestBank;
  let gateway: ServiceHandle;
  let shop: Awaited<ReturnType<typeof webhookReceiver>>;
  let browser: Browser;
  let payer: BrowserContext;
  let app: Page;
  let n = 0;

  before(async () => {
    shop = await webhookReceiver();
    const gatewayPort = await freePort();
    const gatewayKey = newWebhookSecret();
    const callbackSecret = newWebhookSecret();
    bank = await startTestBank('pglite', {
      gatewayKey,
      env: {
        BANK_GATEWAY_CALLBACK_URL: `http://127.0.0.1:${gatewayPort}/bank/callbacks`,
        BANK_CALLBACK_SECRET: callbackSecret,
      },
    });
    const config = loadGatewayConfig({
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_BANK_URL: bank.url,
      GATEWAY_BANK_KEY: gatewayKey,
      GATEWAY_BANK_CALLBACK_SECRET: callbackSecret,
      GATEWAY_DEMO_MERCHANT_API_KEY: TEST_API_KEY,
      GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: newWebhookSecret(),
      GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: shop.url,
      GATEWAY_JOB_POLL_MS: '100',
      LOG_LEVEL: 'silent',
    });
    gateway = await startGateway(config, {
      database: await freshDatabase(gatewayDatabaseSpec, 'pglite'),
      log: createLogger('gateway', 'silent'),
    });

    browser = await launchBrowser();
    payer = await browser.newContext();
    const cardholder = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    app = await cardholder.newPage();
    await app.goto(`${bank.url}/login`);
    await app.fill('#email', DEMO_CARDHOLDER.email);
    await app.fill('#password', DEMO_CARDHOLDER.password);
    await app.click('button[type=submit]');
    await app.waitForSelector('body[data-live="true"]');
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await bank?.close();
    await shop?.close();
  });

  async function payWith(card: string, minor: string): Promise<{ page: Page; sessionId: string }> {
    const res = await fetch(`${gateway.url}/v1/payment_sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        amount: { minor, currency: 'EUR' },
        merchant_reference: `INV-E2E-${++n}`,
        description: 'Two mugs',
        return_url: 'http://shop.test/return',
      }),
    });
    assert.equal(res.status, 201);
    const session = (await res.json()) as { id: string; hosted_url: string };
    const page = await payer.newPage();
    await page.goto(session.hosted_url);
    await page.fill('#number', card);
    await page.fill('#exp', '12/34');
    await page.fill('#cvc', '123');
    await page.fill('#name', 'Demo Cardholder');
    await page.click('#submit');
    await page.waitForSelector('#stage:has-text("approval in your bank app")', { timeout: 15_000 });
    return { page, sessionId: session.id };
  }

  it('approve: the request appears in the bank app, the payer page shows Paid, the bank records the capture', async () => {
    const { page, sessionId } = await payWith(cardOf('requires_approval'), '3150');
    const request = app
      .locator('[data-approval-id]', { hasText: 'Countersign demo shop' })
      .filter({ hasText: '€31.50' });
    await request.waitFor();
    await request.getByRole('button', { name: 'Approve' }).click();
    await page.waitForSelector('#stage:has-text("Paid")', { timeout: 15_000 });
    // The shop acknowledged, so the gateway captures at the bank: a debit movement appears.
    const [auth] = await bank.bank.database.db
      .select()
      .from(authorizations)
      .where(eq(authorizations.gatewayRef, sessionId));
    assert.ok(auth);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const debits = await bank.bank.database.db.select().from(movements).where(eq(movements.authorizationId, auth.id));
      if (debits.some((m) => m.kind === 'capture' && m.amountMinor === -3150n)) break;
      assert.ok(Date.now() < deadline, 'the gateway captured the approved authorisation at the bank');
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.close();
  });

  it('decline: the payer page says declined in the bank app and not charged', async () => {
    const { page } = await payWith(cardOf('requires_approval'), '1800');
    const request = app.locator('[data-approval-id]').filter({ hasText: '€18.00' });
    await request.getByRole('button', { name: 'Decline' }).click();
    await page.waitForSelector('#stage:has-text("declined")', { timeout: 15_000 });
    const stage = (await page.textContent('#stage')) ?? '';
    assert.match(stage, /bank app/);
    assert.match(stage, /not charged/);
    await page.close();
  });

  it('time-out: nobody answers, the request expires in the app and the payer page says it timed out', async () => {
    const { page } = await payWith(cardOf('approval_timeout'), '700');
    const request = app.locator('[data-approval-id]').filter({ hasText: '€7.00' });
    await request.waitFor();
    await request.locator('.outcome', { hasText: 'Expired' }).waitFor({ timeout: 15_000 });
    await page.waitForSelector('#stage:has-text("timed out")', { timeout: 15_000 });
    assert.match((await page.textContent('#stage')) ?? '', /not charged/);
    await page.close();
  });
});
