// The shop on Stripe against our gateway's Stripe dialect, end to end: bank, gateway and shop started
// as `npm start` wires them with SHOP_GATEWAY=stripe. A customer checks out, is sent to the Checkout
// Session's hosted page and pays; the gateway signs a Stripe webhook to /webhooks/stripe; the shop marks
// the invoice paid and its capture job captures (the PaymentIntent `succeeded` at the gateway).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { eventually } from '../src/gateway/testing.ts';
import { invoices, paymentAttempts } from '../src/shop/storage/tables.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { cardDetails, checkoutForm, DEMO } from './support/factories.ts';
import { startInProcess, type InProcessParties } from './support/harness/in-process.ts';
import { ShopClient } from './support/shop-client.ts';

describe('the shop on Stripe (our gateway speaking Stripe)', () => {
  let sys: InProcessParties;
  let stripe: Stripe;
  let client: ShopClient;

  before(async () => {
    sys = await startInProcess({
      env: { SHOP_GATEWAY: 'stripe', SHOP_JOB_POLL_MS: '50', GATEWAY_JOB_POLL_MS: '50' },
      jobs: true,
      bankPollMs: 100,
    });
    const { hostname, port } = new URL(sys.gateway.url);
    stripe = new Stripe(sys.secrets.demoMerchantStripeApiKey, { host: hostname, port: Number(port), protocol: 'http' });
    client = new ShopClient(
      { request: (p, i) => fetch(`${sys.shop.url}${p}`, { ...i, redirect: 'manual' }) },
      '198.18.7.1',
    );
    assert.equal((await client.login(...DEMO.customer)).status, 303);
  });
  after(async () => {
    await sys?.stop();
  });

  async function payNow() {
    const db = sys.shop.database.db;
    await client.emptyCart();
    const cartId = await checkoutForm(client, {
      lines: [{ productId: (await listProducts(db))[0]!.id, quantity: 1 }],
      deliveryMethodId: (await listDeliveryMethods(db))[0]!.id,
    });
    const res = await client.send('/checkout/pay', { form: { cartId } });
    const location = res.headers.get('location') ?? '';
    assert.ok(location.startsWith(`${sys.gateway.url}/`), `"Pay now" sends to the hosted page, got ${location}`);
    const [attempt] = (await db.select().from(paymentAttempts)).filter((a) => a.redirectUrl === location);
    assert.ok(attempt?.gatewaySessionId?.startsWith('cs_'), 'the attempt holds the Checkout Session');
    return { location, sessionId: attempt.gatewaySessionId, invoiceId: attempt.invoiceId };
  }

  it('a customer pays on the hosted page: the signed webhook marks the invoice paid and the shop captures', async () => {
    const { location, sessionId, invoiceId } = await payNow();
    const cs = await stripe.checkout.sessions.retrieve(sessionId);
    assert.equal(cs.client_reference_id, invoiceId);
    assert.equal(cs.mode, 'payment');
    const pay = await fetch(`${location}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cardDetails()),
    });
    assert.ok(pay.status < 400, `card accepted on the hosted page (${pay.status})`);
    await eventually(
      async () => {
        const [inv] = await sys.shop.database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
        return inv?.status === 'paid' ? inv : undefined;
      },
      30_000,
      'invoice paid',
    );
    const pi = await eventually(
      async () => {
        const s = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['payment_intent'] });
        const p = s.payment_intent as Stripe.PaymentIntent | null;
        return p?.status === 'succeeded' ? p : undefined;
      },
      30_000,
      'payment intent captured',
    );
    assert.equal(pi.capture_method, 'manual');
    const [attempt] = await sys.shop.database.db
      .select()
      .from(paymentAttempts)
      .where(eq(paymentAttempts.gatewaySessionId, sessionId));
    assert.ok(['paid', 'captured'].includes(attempt!.status));
  });
});
