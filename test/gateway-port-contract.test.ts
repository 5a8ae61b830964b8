// One contract for the shop's gateway port, run for both adapters against a real gateway (and bank)
// over HTTP: the native adapter against our gateway's native API, the Stripe adapter (official SDK)
// against its Stripe dialect. Create, an idempotent retry, the status, cancel, and the event feed
// mean the same through either; the payment, capture and refunds are covered end to end in
// payment-stripe-e2e.test.ts and the native suites.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { money } from '../src/core/money.ts';
import { TEST_API_KEY, TEST_STRIPE_API_KEY } from '../src/gateway/testing.ts';
import { createGatewayAdapter } from '../src/shop/adapters/gateway.native.ts';
import { createStripeAdapter } from '../src/shop/adapters/gateway.stripe.ts';
import type { GatewayPort } from '../src/shop/domain/gateway.port.ts';
import { startStripeSystem } from './support/stripe-gateway.ts';

const adapters: Record<string, (url: string) => GatewayPort> = {
  native: (url) => createGatewayAdapter({ baseUrl: url, apiKey: TEST_API_KEY }),
  stripe: (url) => createStripeAdapter({ secretKey: TEST_STRIPE_API_KEY, apiUrl: url, maxNetworkRetries: 0 }),
};

let n = 0;
const request = () => {
  n++;
  return {
    invoiceId: `inv_contract${Date.now().toString(36)}${n}`,
    attemptId: `att_contract${Date.now().toString(36)}${n}`,
    amount: money(1250n, 'EUR'),
    expiresAt: new Date(Date.now() + 3600_000),
    returnUrl: 'http://shop.test/invoices/x?from=gateway',
    description: `Contract order ${n}`,
  };
};

for (const [name, make] of Object.entries(adapters)) {
  describe(`gateway port contract: ${name} adapter against the real gateway`, () => {
    let sys: Awaited<ReturnType<typeof startStripeSystem>>;
    let port: GatewayPort;

    before(async () => {
      sys = await startStripeSystem();
      port = make(sys.gw.url);
    });
    after(async () => {
      await sys?.stop();
    });

    it('creates a hosted session for the invoice, and a retry with the same attempt id is the same session', async () => {
      const r = request();
      const a = await port.createSession(r);
      const b = await port.createSession(r);
      assert.equal(a.sessionId, b.sessionId);
      assert.ok(a.redirectUrl.startsWith(sys.gw.url), `hosted page on the gateway: ${a.redirectUrl}`);
      const status = await port.getSession(a.sessionId);
      assert.equal(status.status, 'open');
      assert.equal(status.invoiceId, r.invoiceId);
      assert.equal(status.amount.minor, 1250n);
      assert.equal(status.amount.currency, 'EUR');
    });

    it('cancels an open session: it can no longer be paid, and the feed reports it with a newer sequence', async () => {
      const r = request();
      const s = await port.createSession(r);
      const before = await port.getSession(s.sessionId);
      await port.cancelSession(s.sessionId);
      const afterCancel = await port.getSession(s.sessionId);
      assert.ok(['canceled', 'expired'].includes(afterCancel.status), afterCancel.status);
      assert.ok(afterCancel.sequence > before.sequence);
      let cursor: string | null = null;
      const seen = [];
      for (let i = 0; i < 50; i++) {
        const page = await port.listEvents(cursor);
        seen.push(...page.events);
        cursor = page.nextCursor;
        if (!page.hasMore) break;
      }
      const mine = seen.filter((e) => e.sessionId === s.sessionId);
      assert.ok(
        mine.some((e) => ['canceled', 'expired'].includes(e.status) && e.invoiceId === r.invoiceId),
        `the feed has the cancellation: ${JSON.stringify(mine.map((e) => e.status))}`,
      );
    });

    it('refuses to refund a session that was never paid (a final answer, not a retry)', async () => {
      const s = await port.createSession(request());
      const r = await port.createRefund({
        sessionId: s.sessionId,
        refundId: `ref_contract${Date.now().toString(36)}`,
        amount: money(100n, 'EUR'),
        reason: 'contract',
      });
      assert.equal(r.status, 'failed');
    });
  });
}
