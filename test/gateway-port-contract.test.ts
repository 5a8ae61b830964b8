// One contract for the shop's gateway port, run for both adapters against a real gateway (and bank)
// over HTTP: the native adapter against our gateway's native API, the Stripe adapter (official SDK)
// against its Stripe dialect. Create, an idempotent retry, the status, cancel, the event feed, and the
// shop's verdict on a payment mean the same through either: a session paid on the hosted page reads as
// authorised; accepted it is captured, refused it is voided and never captured, and the feed tells each.
// The verdict travels as each gateway takes it: ours by an explicit acknowledgement call and a refusal
// as the webhook's answer (409), Stripe's as capture and cancel calls. Refunds of a captured payment are
// covered end to end in payment-stripe-e2e.test.ts and the native suites.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { newId } from '../src/core/ids.ts';
import { money } from '../src/core/money.ts';
import { eventually, TEST_API_KEY, TEST_STRIPE_API_KEY } from '../src/gateway/testing.ts';
import { createGatewayAdapter } from '../src/shop/adapters/gateway.native.ts';
import { createStripeAdapter } from '../src/shop/adapters/gateway.stripe.ts';
import type { GatewayPort, PaymentEvent } from '../src/shop/domain/gateway.port.ts';
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
    // As the shop makes them: an attempt id of its own, an invoice valid 30 minutes (its default).
    attemptId: newId('att'),
    amount: money(1250n, 'EUR'),
    expiresAt: new Date(Date.now() + 30 * 60_000),
    returnUrl: 'http://shop.test/invoices/x?from=gateway',
    description: `Contract order ${n}`,
  };
};

/** The gateway's session id behind a port session id (a Checkout Session `cs_X` is our `ps_X`). */
const gatewaySessionId = (id: string) => `ps_${id.slice(3)}`;

/**
 * The shop's webhook endpoint for the native adapter: it answers 409 (the refusal) to payment.authorized
 * for the sessions in `refuse`, and 503 (no verdict yet: asked again later) to every other one, so that
 * an acceptance comes only from the port's acknowledgement call.
 */
async function verdictReceiver(refuse: Set<string>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += String(d)));
    req.on('end', () => {
      const event = JSON.parse(body || '{}') as { type?: string; data?: { session_id?: string } };
      const id = event.data?.session_id ?? '';
      res.statusCode = event.type !== 'payment.authorized' ? 200 : refuse.has(id) ? 409 : 503;
      res.end(res.statusCode === 409 ? 'invoice no longer payable' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/webhooks`, server };
}

for (const [name, make] of Object.entries(adapters)) {
  describe(`gateway port contract: ${name} adapter against the real gateway`, () => {
    let sys: Awaited<ReturnType<typeof startStripeSystem>>;
    let port: GatewayPort;
    let receiver: { url: string; server: Server };
    const refuse = new Set<string>();

    before(async () => {
      receiver = await verdictReceiver(refuse);
      sys = await startStripeSystem({ webhookUrl: receiver.url });
      port = make(sys.gw.url);
    });
    after(async () => {
      await sys?.stop();
      receiver?.server.close();
    });

    /** Every event of a session in the feed, read from the start as reconciliation does. */
    async function feedOf(sessionId: string): Promise<PaymentEvent[]> {
      let cursor: string | null = null;
      const seen: PaymentEvent[] = [];
      for (let i = 0; i < 50; i++) {
        const page = await port.listEvents(cursor);
        seen.push(...page.events);
        cursor = page.nextCursor;
        if (!page.hasMore) break;
      }
      return seen.filter((e) => e.sessionId === sessionId);
    }

    /** A session paid on the hosted page with 4242: the port reads it as authorised, for the invoice's amount. */
    async function paidSession(options: { refused?: boolean } = {}) {
      const r = request();
      const s = await port.createSession(r);
      if (options.refused) refuse.add(gatewaySessionId(s.sessionId));
      const paid = await sys.payOnPage(s.redirectUrl);
      assert.equal(paid.status, 200);
      assert.equal(paid.body.status, 'authorized');
      return { r, s };
    }

    it('a session paid on the hosted page reads as authorised; accepted, it is captured, and the feed tells both', async () => {
      const { r, s } = await paidSession();
      const authorised = await port.getSession(s.sessionId);
      assert.equal(authorised.status, 'authorized');
      assert.equal(authorised.invoiceId, r.invoiceId);
      assert.equal(authorised.amount.minor, 1250n);
      // The shop's acceptance: our gateway's acknowledgement call, or Stripe's capture.
      if (port.acknowledgement === 'explicit') assert.equal(await port.captureSession!(s.sessionId), true);
      else assert.equal(await port.acknowledgeSession!(s.sessionId), true);
      const captured = await eventually(
        async () => {
          const now = await port.getSession(s.sessionId);
          return now.status === 'captured' ? now : undefined;
        },
        15_000,
        'captured',
      );
      assert.ok(captured.sequence > authorised.sequence);
      assert.equal(await sys.bankStatus(gatewaySessionId(s.sessionId)), 'captured');
      const feed = await feedOf(s.sessionId);
      const statuses = feed.map((e) => e.status);
      assert.ok(statuses.includes('authorized') && statuses.includes('captured'), JSON.stringify(statuses));
      const [a, c] = [feed.find((e) => e.status === 'authorized')!, feed.find((e) => e.status === 'captured')!];
      assert.ok(c.sequence > a.sequence, 'the capture is newer than the authorisation');
      assert.ok(feed.every((e) => e.invoiceId === r.invoiceId && e.amount.minor === 1250n));
    });

    it('refused, an authorised session is voided and never captured, and the feed tells it', async () => {
      const { r, s } = await paidSession({ refused: true });
      // The shop's refusal: Stripe's cancel call; for our gateway the webhook's 409 has given it already.
      if (port.acknowledgement === 'explicit') await port.refuseSession!(s.sessionId);
      const voided = await eventually(
        async () => {
          const now = await port.getSession(s.sessionId);
          return now.status === 'voided' ? now : undefined;
        },
        15_000,
        'voided',
      );
      assert.equal(voided.invoiceId, r.invoiceId);
      assert.equal(await sys.bankStatus(gatewaySessionId(s.sessionId)), 'voided');
      // An acceptance after the refusal changes nothing: never captured.
      if (port.acknowledgement === 'explicit') assert.equal(await port.captureSession!(s.sessionId), false);
      else assert.equal(await port.acknowledgeSession!(s.sessionId), false);
      assert.equal((await port.getSession(s.sessionId)).status, 'voided');
      assert.equal((await sys.sessionRow(gatewaySessionId(s.sessionId))).captured_minor, '0');
      const statuses = (await feedOf(s.sessionId)).map((e) => e.status);
      assert.ok(statuses.includes('voided'), JSON.stringify(statuses));
      assert.ok(!statuses.includes('captured'), JSON.stringify(statuses));
    });

    it('creates a hosted session for the invoice, and a retry with the same attempt id, a second later, is the same session', async () => {
      const r = request();
      const a = await port.createSession(r);
      // Asked again a little later (another click, a restart): the same request, the same session.
      await new Promise((res) => setTimeout(res, 1_100));
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
