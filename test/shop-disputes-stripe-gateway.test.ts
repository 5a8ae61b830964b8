// The shop's Stripe adapter against our gateway's Stripe dialect (with the real bank behind it, both in
// process): a Checkout Session paid and captured, disputed by the cardholder in the bank app; the
// adapter reads the `charge.dispute.created` event as news of our session, submits the evidence with
// `disputes.update` (the files folded into `evidence[uncategorized_text]`, `submit=true`) — the bank
// decides `winning_evidence` for the merchant — and accepts another with `disputes.close`; a closed
// dispute refuses a second answer as `dispute.not_open`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { logIn } from '../src/bank/testing.ts';
import { eventually, TEST_STRIPE_API_KEY } from '../src/gateway/testing.ts';
import { createStripeAdapter, type StripeGateway } from '../src/shop/adapters/gateway.stripe.ts';
import { paidCheckout, startStripeGateway } from './support/stripe-events-support.ts';
import type { StripeSystem } from './support/stripe-gateway.ts';

describe("the shop's Stripe adapter against the gateway's Stripe dialect: disputes", () => {
  let sys: StripeSystem;
  let adapter: StripeGateway;

  before(async () => {
    sys = await startStripeGateway();
    adapter = createStripeAdapter({ secretKey: TEST_STRIPE_API_KEY, apiUrl: sys.gw.url, maxNetworkRetries: 0 });
  });
  after(async () => {
    await sys?.stop();
  });

  /** A captured payment disputed by the demo cardholder in the bank app: its `charge.dispute.created` event. */
  async function disputedPayment() {
    const paid = await paidCheckout(sys.stripe, sys.gw.url, { capture: 'automatic' });
    await eventually(
      async () => ((await sys.stripe.paymentIntents.retrieve(paid.pi)).status === 'succeeded' ? true : undefined),
      15_000,
      'captured',
    );
    const holder = await logIn(sys.bankUrl, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
    const page = await (await fetch(`${sys.bankUrl}/app/disputes`, { headers: { cookie: holder.cookie } })).text();
    const authorizationId = /name="authorization_id" value="(bauth_\w+)"/.exec(page)?.[1];
    assert.ok(authorizationId);
    const res = await fetch(`${sys.bankUrl}/app/disputes`, {
      method: 'POST',
      headers: {
        cookie: holder.cookie,
        'x-csrf-token': holder.csrf,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ authorization_id: authorizationId, reason: 'fraudulent' }),
    });
    assert.equal(res.status, 201, await res.text());
    const event = await eventually(
      async () =>
        (await sys.stripe.events.list({ type: 'charge.dispute.created', limit: 10 })).data.find(
          (e) => (e.data.object as Stripe.Dispute).payment_intent === paid.pi,
        ),
      20_000,
      'the charge.dispute.created event',
    );
    return { ...paid, event };
  }

  it('reads the dispute event as news of our session, submits folded evidence, and the bank decides for the merchant', async () => {
    const { cs, event } = await disputedPayment();
    const news = await adapter.toDisputeNews(event, 'webhook');
    assert.ok(news);
    assert.equal(news.sessionId, cs);
    assert.equal(news.status, 'needs_response');
    assert.equal(news.reason, 'fraudulent');
    assert.equal(news.amount.minor, 1999n);
    assert.ok(news.evidenceDueBy.getTime() > Date.now());
    const answered = await adapter.submitDisputeEvidence!(news.disputeId, {
      text: 'Delivered and signed for. winning_evidence',
      files: [
        {
          name: 'receipt.pdf',
          contentType: 'application/pdf',
          content: Buffer.from('%PDF-1.7'),
          text: 'Total paid: €19.99',
        },
        { name: 'audit-trail.txt', contentType: 'text/plain', content: Buffer.from('#1 invoice.pay inv_x') },
      ],
    });
    assert.equal(answered.sessionId, cs);
    const stored = await sys.stripe.disputes.retrieve(news.disputeId);
    assert.match(
      stored.evidence.uncategorized_text ?? '',
      /winning_evidence[\s\S]*Total paid: €19\.99[\s\S]*#1 invoice\.pay/,
    );
    await eventually(
      async () => ((await adapter.getDispute!(news.disputeId)).status === 'won' ? true : undefined),
      20_000,
      'won at the gateway',
    );
    await assert.rejects(
      adapter.acceptDispute!(news.disputeId),
      (e: { code?: string }) => e.code === 'dispute.not_open',
    );
  });

  it('accepts a dispute with disputes.close: lost at once', async () => {
    const { event } = await disputedPayment();
    const d = event.data.object as Stripe.Dispute;
    assert.equal((await adapter.acceptDispute!(d.id)).status, 'lost');
    assert.equal((await sys.stripe.disputes.retrieve(d.id)).status, 'lost');
  });
});
