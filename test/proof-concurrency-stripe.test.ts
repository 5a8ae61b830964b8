// Proof suite "concurrency" with the shop on its Stripe adapter (reports with proof-concurrency.test.ts
// as one suite): shop, gateway (its Stripe API) and bank in process over real HTTP on real PostgreSQL,
// the shop's worker running. Each round, 50 simultaneous identical submissions must have exactly one
// effect: "Pay now" of one cart (one order, invoice, attempt and Checkout Session), and one Stripe event
// — checkout.session.completed, signed as the gateway signs it — delivered 50 times while the gateway
// delivers it too (paid once, audited once, captured once by the shop's capture job, the gateway and
// the bank). sized(2, 30) rounds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { authorizations, movements } from '../src/bank/storage/schema.ts';
import { eventually } from '../src/gateway/testing.ts';
import { paymentSessions } from '../src/gateway/storage/tables.ts';
import { gatewayEvents } from '../src/shop/storage/payment-tables.ts';
import { auditLog, invoices, orders, orderStatusEvents, paymentAttempts } from '../src/shop/storage/tables.ts';
import { startProofSystem, type ProofSystem } from './support/harness/in-process.ts';
import {
  proofRandom,
  proofSeed,
  proofSize,
  recordProof,
  replayHint,
  sized,
  type ProofFailure,
} from './support/proof.ts';
import type { ShopClient } from './support/shop-client.ts';
import { settledBooks } from './support/books.ts';

const SUITE = 'concurrency';
const seed = proofSeed();
const random = proofRandom(`${seed}/stripe`);
const hint = replayHint(SUITE, seed);
const ROUNDS = sized(2, 30);
const N = 50;

describe(`concurrency with the shop on Stripe: ${N} simultaneous submissions, exactly one effect (${ROUNDS} rounds each)`, () => {
  let sys: ProofSystem;
  let stripe: Stripe;
  let customer: ShopClient;
  let submissions = 0;
  let doubleFulfilled = 0;
  let lost = 0;
  const failures: ProofFailure[] = [];
  const figures: Record<string, number> = {};

  before(async () => {
    sys = await startProofSystem({
      jobs: true,
      shopEnv: { SHOP_GATEWAY: 'stripe', SHOP_RECONCILE_EVERY_SECONDS: '3600', SHOP_EXPIRY_EVERY_SECONDS: '3600' },
    });
    const { hostname, port } = new URL(sys.gateway.url);
    stripe = new Stripe(sys.secrets.demoMerchantStripeApiKey, {
      host: hostname,
      port: Number(port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    customer = await sys.login('customer');
  });
  after(async () => {
    await sys?.stop();
    recordProof({
      suite: SUITE,
      size: proofSize(),
      seed,
      cases: submissions,
      wronglyAccepted: 0,
      lost,
      doubleFulfilled,
      recovered: 0,
      failures,
      figures: { stripeRounds: ROUNDS, ...figures },
    });
  });

  function exactlyOne(what: string, round: number, got: number) {
    if (got > 1) doubleFulfilled++;
    if (got < 1) lost++;
    if (got !== 1) failures.push({ case: `stripe: ${what} (round ${round})`, detail: `${got} instead of 1` });
    assert.equal(got, 1, `${what}, round ${round}: ${got} instead of exactly one (${hint})`);
  }
  const burst = async <T>(what: string, make: (i: number) => Promise<T>): Promise<T[]> => {
    submissions += N;
    figures[what] = (figures[what] ?? 0) + N;
    return Promise.all(Array.from({ length: N }, (_, i) => make(i)));
  };
  const lines = () => [{ productId: sys.productIds[random.int(sys.productIds.length)]!, quantity: 1 + random.int(3) }];
  const db = () => sys.shopDb.db;
  const count = async (action: string, subject: string) =>
    (
      await db()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, action), eq(auditLog.subject, subject)))
    ).length;

  it(`checkout: ${N} simultaneous "Pay now" of the same cart make one order, invoice, attempt and Checkout Session`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const cartId = await sys.checkout(customer, lines());
      const csrf = await customer.csrf();
      const answers = await burst('stripe checkout', () => customer.send('/checkout/pay', { form: { cartId }, csrf }));
      assert.ok(
        answers.every((a) => a.status === 303),
        `every click is redirected (${hint})`,
      );
      const placed = await db().select().from(orders).where(eq(orders.cartId, cartId));
      exactlyOne('orders for one cart', round, placed.length);
      const issued = await db().select().from(invoices).where(eq(invoices.orderId, placed[0]!.id));
      exactlyOne('invoices for one order', round, issued.length);
      const attempts = await db().select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, issued[0]!.id));
      exactlyOne('payment attempts for one invoice', round, attempts.length);
      const sessions = await sys.gatewayDb.db
        .select()
        .from(paymentSessions)
        .where(eq(paymentSessions.merchantReference, issued[0]!.id));
      exactlyOne('Checkout Sessions for one invoice', round, sessions.length);
      assert.match(attempts[0]!.gatewaySessionId ?? '', /^cs_/);
      assert.equal(new Set(answers.map((a) => a.headers.get('location'))).size, 1, 'one hosted page');
    }
  });

  it(`webhooks: ${N} identical signed checkout.session.completed, racing the gateway's own, pay once and are captured once`, async () => {
    const secret = sys.secrets.demoMerchantStripeWebhookSecret;
    for (let round = 1; round <= ROUNDS; round++) {
      const cartId = await sys.checkout(customer, lines());
      const location = (await customer.send('/checkout/pay', { form: { cartId } })).headers.get('location') ?? '';
      const sessionId = location.slice(location.lastIndexOf('/') + 1);
      const cs = `cs_${sessionId.slice(3)}`;
      const [attempt] = await db().select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, cs));
      const invoice = (await db().select().from(invoices).where(eq(invoices.id, attempt!.invoiceId)))[0]!;
      const paying = sys.payCard(sessionId);
      const completed = await eventually(
        async () =>
          (await stripe.events.list({ type: 'checkout.session.completed', limit: 20 })).data.find(
            (e) => (e.data.object as { id: string }).id === cs,
          ),
        10_000,
        'checkout.session.completed',
      );
      const payload = JSON.stringify(completed);
      const answers = await burst('stripe webhooks identical', () =>
        fetch(`${sys.shop.url}/webhooks/stripe`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret }),
          },
          body: payload,
        }),
      );
      assert.ok((await paying).status < 300);
      assert.ok(
        answers.every((a) => a.status === 200),
        `every copy answered 200: ${[...new Set(answers.map((a) => a.status))].join(',')} (${hint})`,
      );
      const pi = await eventually(
        async () => {
          const p = await stripe.paymentIntents.retrieve(`pi_${sessionId.slice(3)}`);
          return p.status === 'succeeded' ? p : undefined;
        },
        20_000,
        'captured by the shop',
      );
      assert.equal(BigInt(pi.amount_received), invoice.amountMinor, 'captured exactly the invoice amount');
      exactlyOne('paid transitions of the invoice (audit)', round, await count('invoice.pay', invoice.id));
      exactlyOne(
        'order status changes to paid',
        round,
        (
          await db()
            .select()
            .from(orderStatusEvents)
            .where(and(eq(orderStatusEvents.orderId, invoice.orderId), eq(orderStatusEvents.toStatus, 'paid')))
        ).length,
      );
      exactlyOne(
        'dedupe rows for the event',
        round,
        (await db().select().from(gatewayEvents).where(eq(gatewayEvents.eventId, completed.id))).length,
      );
      const [s] = await sys.gatewayDb.db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
      const [auth] = await sys.bankDb.db
        .select()
        .from(authorizations)
        .where(eq(authorizations.id, s!.bankAuthorizationId!));
      exactlyOne(
        'capture movements at the bank',
        round,
        (
          await sys.bankDb.db
            .select()
            .from(movements)
            .where(and(eq(movements.authorizationId, auth!.id), eq(movements.kind, 'capture')))
        ).length,
      );
    }
  });

  it('the books after the races: both ledgers balance, shop, gateway and bank agree to the cent', async () => {
    const books = await settledBooks({ gateway: sys.gatewayDb.db, bank: sys.bankDb.db, shop: sys.shopDb.db });
    assert.deepEqual(
      books.findings.map((f) => `${f.party} ${f.check} ${f.subject}: ${f.detail}`),
      [],
      'ledger verify (0 unbalanced, 0 unmatched)',
    );
    assert.ok(
      books.transfers > 0 && (books.matched.shopPaid ?? 0) > 0,
      `the books recorded the races: ${JSON.stringify(books.matched)}`,
    );
  });
});
