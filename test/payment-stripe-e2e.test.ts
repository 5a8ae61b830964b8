// The shop on Stripe against our gateway's Stripe dialect, end to end: bank, gateway and shop started
// as `npm start` wires them with SHOP_GATEWAY=stripe. A customer checks out, is sent to the Checkout
// Session's hosted page and pays; the gateway signs a Stripe webhook to /webhooks/stripe; the shop marks
// the invoice paid and its capture job captures (the PaymentIntent `succeeded` at the gateway).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { eventually } from '../src/gateway/testing.ts';
import { invoices, orders, paymentAttempts, refunds } from '../src/shop/storage/tables.ts';
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
      env: {
        SHOP_GATEWAY: 'stripe',
        SHOP_JOB_POLL_MS: '50',
        GATEWAY_JOB_POLL_MS: '50',
        SHOP_REFUND_APPROVAL_THRESHOLD_MINOR: '100000000',
      },
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
    const sessionId = attempt?.gatewaySessionId ?? '';
    assert.ok(attempt && sessionId.startsWith('cs_'), 'the attempt holds the Checkout Session');
    return { location, sessionId, invoiceId: attempt.invoiceId };
  }

  const payCard = (location: string) =>
    fetch(`${location}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cardDetails()),
    });
  const invoiceRow = async (id: string) =>
    (await sys.shop.database.db.select().from(invoices).where(eq(invoices.id, id)))[0]!;
  const paymentIntentOf = async (sessionId: string) =>
    (await stripe.checkout.sessions.retrieve(sessionId, { expand: ['payment_intent'] }))
      .payment_intent as Stripe.PaymentIntent | null;
  let paid: { sessionId: string; invoiceId: string } | undefined;

  it('a customer pays on the hosted page: the signed webhook marks the invoice paid and the shop captures', async () => {
    const { location, sessionId, invoiceId } = await payNow();
    const cs = await stripe.checkout.sessions.retrieve(sessionId);
    assert.equal(cs.client_reference_id, invoiceId);
    assert.equal(cs.mode, 'payment');
    const pay = await payCard(location);
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
    paid = { sessionId, invoiceId };
  });

  it('a payment for an invoice superseded before it arrived is refused: cancelled, never captured', async () => {
    const { location, sessionId, invoiceId } = await payNow();
    const orderId = (await invoiceRow(invoiceId)).orderId;
    const deliveries = await listDeliveryMethods(sys.shop.database.db);
    const changed = await client.send(`/orders/${orderId}/delivery`, { form: { deliveryMethodId: deliveries[1]!.id } });
    assert.equal(changed.status, 303);
    assert.notEqual((await invoiceRow(invoiceId)).status, 'open', 'the old invoice is superseded');
    await payCard(location);
    const pi = await eventually(
      async () => {
        const p = await paymentIntentOf(sessionId);
        return p && ['canceled', 'succeeded'].includes(p.status) ? p : undefined;
      },
      30_000,
      'the payment released',
    );
    assert.equal(pi.status, 'canceled', 'never captured');
    assert.notEqual((await invoiceRow(invoiceId)).status, 'paid');
  });

  it('a partial and then a full refund through the staff console reach Stripe and refund the order', async () => {
    assert.ok(paid, 'the first payment went through');
    const invoice = await invoiceRow(paid.invoiceId);
    const staff = new ShopClient(
      { request: (p, i) => fetch(`${sys.shop.url}${p}`, { ...i, redirect: 'manual' }) },
      '198.18.7.2',
    );
    assert.equal((await staff.login(...DEMO.staff)).status, 303);
    const part = invoice.amountMinor / 3n;
    const refund = (minor: bigint, reason: string) =>
      staff.send(`/staff/orders/${invoice.orderId}/refunds`, {
        form: { invoiceId: invoice.id, amount: (Number(minor) / 100).toFixed(2), reason },
      });
    const settled = (n: number) =>
      eventually(
        async () => {
          const rows = await sys.shop.database.db.select().from(refunds).where(eq(refunds.invoiceId, invoice.id));
          return rows.length === n && rows.every((r) => r.status === 'succeeded') ? rows : undefined;
        },
        30_000,
        `${n} refunds succeeded`,
      );
    assert.equal((await refund(part, 'one item was missing')).status, 303);
    await settled(1);
    assert.equal((await invoiceRow(invoice.id)).status, 'paid', 'still paid after a partial refund');
    assert.equal((await refund(invoice.amountMinor - part, 'the rest')).status, 303);
    const rows = await settled(2);
    assert.ok(
      rows.every((r) => r.gatewayRefundId?.startsWith('re_')),
      'Stripe refund ids',
    );
    const atStripe = await Promise.all(rows.map((r) => stripe.refunds.retrieve(r.gatewayRefundId!)));
    assert.ok(atStripe.every((r) => r.status === 'succeeded'));
    assert.equal(
      atStripe.reduce((sum, r) => sum + r.amount, 0),
      Number(invoice.amountMinor),
      'refunded in full at Stripe',
    );
    await eventually(
      async () =>
        (await sys.shop.database.db.select().from(orders).where(eq(orders.id, invoice.orderId)))[0]!.status ===
        'refunded'
          ? true
          : undefined,
      30_000,
      'order refunded',
    );
    assert.equal((await invoiceRow(invoice.id)).status, 'refunded');
  });
});

describe('the shop on Stripe: a dropped webhook is caught up by reconciliation (GET /v1/events)', () => {
  let sys: InProcessParties;
  let stripe: Stripe;

  before(async () => {
    sys = await startInProcess({
      env: {
        SHOP_GATEWAY: 'stripe',
        SHOP_JOB_POLL_MS: '50',
        GATEWAY_JOB_POLL_MS: '50',
        SHOP_RECONCILE_EVERY_SECONDS: '1',
        // Every Stripe delivery is lost on the way: the endpoint answers nothing.
        GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_URL: 'http://127.0.0.1:9/webhooks/stripe',
      },
      jobs: true,
      bankPollMs: 100,
    });
    const { hostname, port } = new URL(sys.gateway.url);
    stripe = new Stripe(sys.secrets.demoMerchantStripeApiKey, { host: hostname, port: Number(port), protocol: 'http' });
  });
  after(async () => {
    await sys?.stop();
  });

  it('the payment is found in the event feed: the invoice turns paid and the shop captures', async () => {
    const client = new ShopClient(
      { request: (p, i) => fetch(`${sys.shop.url}${p}`, { ...i, redirect: 'manual' }) },
      '198.18.7.3',
    );
    assert.equal((await client.login(...DEMO.customer)).status, 303);
    const db = sys.shop.database.db;
    const cartId = await checkoutForm(client, {
      lines: [{ productId: (await listProducts(db))[0]!.id, quantity: 1 }],
      deliveryMethodId: (await listDeliveryMethods(db))[0]!.id,
    });
    const location = (await client.send('/checkout/pay', { form: { cartId } })).headers.get('location') ?? '';
    const [attempt] = (await db.select().from(paymentAttempts)).filter((a) => a.redirectUrl === location);
    const pay = await fetch(`${location}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cardDetails()),
    });
    assert.ok(pay.status < 400);
    await eventually(
      async () => {
        const [inv] = await db.select().from(invoices).where(eq(invoices.id, attempt!.invoiceId));
        return inv?.status === 'paid' ? inv : undefined;
      },
      40_000,
      'invoice paid from the feed',
    );
    await eventually(
      async () => {
        const s = await stripe.checkout.sessions.retrieve(attempt!.gatewaySessionId!, { expand: ['payment_intent'] });
        return (s.payment_intent as Stripe.PaymentIntent | null)?.status === 'succeeded' ? true : undefined;
      },
      40_000,
      'captured',
    );
  });
});
