// The shop's disputes when it runs on Stripe, both engines: `charge.dispute.*` events verified like
// every Stripe delivery, the disputed PaymentIntent (or the charge's) resolved to our Checkout Session
// through the API, and the order following; and the Stripe adapter's answers — `disputes.update` with
// the evidence folded into `evidence[uncategorized_text]` and `submit=true`, `disputes.close` to
// accept. Stripe's API is a small local HTTP stub (the network is faked, the SDK is real).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { createStripeAdapter } from '../src/shop/adapters/gateway.stripe.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { disputes, gatewayEvents, invoices, orders } from '../src/shop/storage/tables.ts';
import { checkoutForm, DEMO } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';

const SECRET = 'stripe-dispute-test-secret-'.padEnd(48, 'x');
const WHSEC = 'whsec_disputes_0123456789abcdefghijklmno';
const STRANGER = 'whsec_stranger_0123456789abcdefghijklmno';

/** Stripe's API as far as disputes need it: checkout sessions by PaymentIntent, charges, disputes. */
class StripeStub {
  readonly owners = new Map<string, { cs: string; invoice: string }>();
  readonly charges = new Map<string, string>();
  readonly disputes = new Map<string, Record<string, unknown>>();
  readonly posts: Array<{ path: string; body: URLSearchParams }> = [];
  server: Server | undefined;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://stub');
        const answer = this.answer(req.method ?? 'GET', url, new URLSearchParams(raw));
        const status = answer === undefined ? 404 : answer === 'closed' ? 400 : 200;
        const message = answer === 'closed' ? 'This dispute is already closed' : 'No such object';
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? answer : { error: { type: 'invalid_request_error', message } }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  private answer(method: string, url: URL, body: URLSearchParams): unknown {
    const path = url.pathname;
    if (path === '/v1/checkout/sessions') {
      const o = this.owners.get(url.searchParams.get('payment_intent') ?? '');
      const data = o ? [{ id: o.cs, object: 'checkout.session', client_reference_id: o.invoice }] : [];
      return { object: 'list', data, has_more: false, url: path };
    }
    const charge = /^\/v1\/charges\/(\w+)$/.exec(path)?.[1];
    if (charge) return { id: charge, object: 'charge', payment_intent: this.charges.get(charge) ?? null };
    const m = /^\/v1\/disputes\/(\w+)(\/close)?$/.exec(path);
    const d = m ? this.disputes.get(m[1]!) : undefined;
    if (!m || !d) return undefined;
    if (method === 'POST') {
      if (d.status !== 'needs_response') return 'closed';
      this.posts.push({ path, body });
      d.status = m[2] ? 'lost' : 'under_review';
    }
    return d;
  }
}

let n = 0;
/** A Stripe event as Stripe sends it. */
function stripeEvent(type: string, object: Record<string, unknown>) {
  n++;
  return {
    id: `evt_dsp_${Date.now().toString(36)}${n}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

/** A Stripe Dispute (the fields of Stripe's own example object that the shop reads). */
function stripeDispute(id: string, fields: { amount: number; pi: string | null; charge: string; status?: string }) {
  const created = Math.floor(Date.now() / 1000);
  return {
    id,
    object: 'dispute',
    amount: fields.amount,
    currency: 'eur',
    charge: fields.charge,
    payment_intent: fields.pi,
    reason: 'product_not_received',
    status: fields.status ?? 'needs_response',
    evidence_details: { due_by: created + 7 * 86_400, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    created,
  };
}

function signed(event: object, secret = WHSEC) {
  const body = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    timestamp: Math.floor(Date.now() / 1000),
  });
  return { body, header };
}

const stub = new StripeStub();
before(() => stub.start());
after(() => new Promise<void>((r) => stub.server?.close(() => r())));

for (const engine of testEngines()) {
  describe(`shop on Stripe: disputes (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.now());
    const gateway = new FakeGateway();
    let client: ShopClient;
    let productId = '';
    let deliveryId = '';

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY: 'stripe',
        SHOP_STRIPE_SECRET_KEY: 'sk_test_unit_0123456789',
        SHOP_STRIPE_API_URL: stub.url,
        SHOP_STRIPE_WEBHOOK_SECRETS: WHSEC,
      });
      shop = await startShop(config, { database, clock, gateway, jobs: false });
      productId = (await listProducts(database.db))[0]!.id;
      deliveryId = (await listDeliveryMethods(database.db))[0]!.id;
      client = new ShopClient({ request: (p, init) => shop.app.request(p, init) }, '198.51.100.31');
      assert.equal((await client.login(...DEMO.customer)).status, 303);
    });
    after(async () => {
      await shop?.stop();
    });

    const deliver = (d: { body: string; header: string }) =>
      shop.app.request('/webhooks/stripe', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': d.header },
        body: d.body,
      });
    const verdict = async (res: Response) => ((await res.json()) as { verdict: string }).verdict;
    const orderStatus = async (id: string) =>
      (await database.db.select().from(orders).where(eq(orders.id, id)))[0]!.status;

    /** A paid order whose PaymentIntent `pi` (and charge `ch`) the stub resolves to its session. */
    async function paidOrder() {
      await client.emptyCart();
      const cartId = await checkoutForm(client, { lines: [{ productId, quantity: 1 }], deliveryMethodId: deliveryId });
      const res = await client.send('/checkout/pay', { form: { cartId } });
      const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')?.[1];
      assert.ok(sessionId);
      const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
      const [invoice] = await database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
      const pi = `pi_dsp${++n}`;
      const ch = `ch_dsp${n}`;
      stub.owners.set(pi, { cs: sessionId, invoice: invoiceId });
      stub.charges.set(ch, pi);
      const completed = stripeEvent('checkout.session.completed', {
        id: sessionId,
        object: 'checkout.session',
        amount_total: Number(invoice!.amountMinor),
        currency: 'eur',
        client_reference_id: invoiceId,
        mode: 'payment',
        payment_intent: pi,
        payment_status: 'unpaid',
        status: 'complete',
        url: null,
      });
      assert.equal(await verdict(await deliver(signed(completed))), 'accepted');
      return { pi, ch, invoice: invoice!, orderId: invoice!.orderId, amount: Number(invoice!.amountMinor) };
    }

    it('charge.dispute.created makes the order disputed; charge.dispute.closed (won, named by its charge only) makes it paid again', async () => {
      const { pi, ch, orderId, amount } = await paidOrder();
      const du = `du_a${n}`;
      const created = stripeEvent('charge.dispute.created', stripeDispute(du, { amount, pi, charge: ch }));
      assert.equal(await verdict(await deliver(signed(created))), 'accepted');
      assert.equal(await orderStatus(orderId), 'disputed');
      const [row] = await database.db.select().from(disputes).where(eq(disputes.id, du));
      assert.equal(row!.status, 'needs_response');
      const dueBy = (created.data.object as { evidence_details: { due_by: number } }).evidence_details.due_by;
      assert.equal(row!.evidenceDueBy.getTime(), dueBy * 1000);
      assert.equal(await verdict(await deliver(signed(created))), 'duplicate');
      const closed = stripeEvent(
        'charge.dispute.closed',
        stripeDispute(du, { amount, pi: null, charge: ch, status: 'won' }),
      );
      assert.equal((await deliver(signed(closed, STRANGER))).status, 401);
      assert.equal(await orderStatus(orderId), 'disputed', 'a forged close decides nothing');
      assert.equal(await verdict(await deliver(signed(closed))), 'accepted');
      assert.equal(await orderStatus(orderId), 'paid');
    });

    it('a dispute of a PaymentIntent of no order here, or of more than was paid, is ignored and changes nothing', async () => {
      const { pi, ch, orderId, amount } = await paidOrder();
      const unknown = stripeEvent(
        'charge.dispute.created',
        stripeDispute(`du_u${n}`, { amount: 100, pi: 'pi_stranger', charge: 'ch_stranger' }),
      );
      assert.equal(await verdict(await deliver(signed(unknown))), 'ignored');
      const larger = stripeEvent(
        'charge.dispute.created',
        stripeDispute(`du_l${n}`, { amount: amount + 1, pi, charge: ch }),
      );
      assert.equal(await verdict(await deliver(signed(larger))), 'ignored');
      const [applied] = await database.db.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, larger.id));
      assert.equal(applied!.code, 'invoice.amount_mismatch');
      assert.equal((await database.db.select().from(disputes).where(eq(disputes.orderId, orderId))).length, 0);
      assert.equal(await orderStatus(orderId), 'paid');
    });

    it('the Stripe adapter submits evidence as disputes.update (text with the files folded in, submit=true) and accepts with disputes.close', async () => {
      const { pi, ch, amount, invoice } = await paidOrder();
      const du = `du_e${n}`;
      stub.disputes.set(du, stripeDispute(du, { amount, pi, charge: ch }));
      const adapter = createStripeAdapter({
        secretKey: 'sk_test_unit_0123456789',
        apiUrl: stub.url,
        maxNetworkRetries: 0,
      });
      const answered = await adapter.submitDisputeEvidence!(du, {
        text: 'Delivered on time.',
        files: [
          {
            name: 'receipt.pdf',
            contentType: 'application/pdf',
            content: Buffer.from('%PDF-1.7'),
            text: 'Total paid: €12.00',
          },
          { name: 'audit.txt', contentType: 'text/plain', content: Buffer.from('#1 invoice.pay') },
          { name: 'photo.png', contentType: 'image/png', content: Buffer.from([0x89, 0x50]) },
        ],
      });
      assert.equal(answered.status, 'under_review');
      assert.equal(answered.invoiceId, invoice.id);
      const post = stub.posts.at(-1)!;
      assert.equal(post.path, `/v1/disputes/${du}`);
      assert.equal(post.body.get('submit'), 'true');
      const text = post.body.get('evidence[uncategorized_text]') ?? '';
      assert.match(text, /^Delivered on time\./);
      assert.match(text, /--- receipt\.pdf \(application\/pdf, 8 bytes\) ---\nTotal paid: €12\.00/);
      assert.match(text, /--- audit\.txt \(text\/plain, 14 bytes\) ---\n#1 invoice\.pay/);
      assert.match(text, /--- photo\.png \(image\/png, 2 bytes\) ---\n\(not shown as text/);

      const du2 = `du_c${n}`;
      stub.disputes.set(du2, stripeDispute(du2, { amount, pi, charge: ch }));
      assert.equal((await adapter.acceptDispute!(du2)).status, 'lost');
      assert.equal(stub.posts.at(-1)!.path, `/v1/disputes/${du2}/close`);
      // No longer awaiting a response (under review now): Stripe's refusal becomes dispute.not_open.
      const posts = stub.posts.length;
      const again = await adapter.acceptDispute!(du).then(
        () => 'accepted',
        (e: { code?: string }) => e.code,
      );
      assert.equal(again, 'dispute.not_open');
      assert.equal(stub.posts.length, posts);
    });
  });
}
