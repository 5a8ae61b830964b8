// Proof suite "chaos" with the shop on its Stripe adapter (reports with proof-chaos.test.ts as one
// suite): shop, gateway (its Stripe API) and bank in process on real PostgreSQL, the shop's worker
// and its reconciliation (every second) running. The gateway's fault injection is on for the Stripe
// webhooks it signs: each delivered up to four times (duplicate), held back so that later events
// overtake it (reorder), and 20 % dropped for good (only the event list, GET /v1/events, still has
// them). Customers buy and pay with a card drawn from the seed (approved or declined); then every
// payment must end as its card says: approved → the invoice paid once, the PaymentIntent captured
// once by the shop (once at the bank); declined → the invoice open, nothing captured.
// sized(12, 400) payments.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { movements } from '../src/bank/storage/schema.ts';
import { verifyBooks } from '../src/cli/books-verify.ts';
import { eventually } from '../src/gateway/testing.ts';
import { paymentSessions } from '../src/gateway/storage/tables.ts';
import { rows } from '../src/platform/db/database.ts';
import { auditLog, invoices, paymentAttempts } from '../src/shop/storage/tables.ts';
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

const SUITE = 'chaos';
const APPROVE = '4242424242424242';
const DECLINE = '4000000000000002';

interface Payment {
  readonly card: 'approved' | 'declined';
  readonly invoiceId: string;
  readonly sessionId: string;
}

describe("proof: Stripe webhook chaos through the gateway's fault injection, the shop on Stripe", () => {
  const seed = proofSeed();
  const random = proofRandom(`${seed}/stripe`);
  const hint = replayHint(SUITE, seed);
  const total = sized(12, 400);
  let sys: ProofSystem;
  let stripe: Stripe;
  const failures: ProofFailure[] = [];
  const counts = { lost: 0, doubleFulfilled: 0, wronglyAccepted: 0, dropped: 0 };

  before(async () => {
    sys = await startProofSystem({
      jobs: true,
      shopEnv: {
        SHOP_GATEWAY: 'stripe',
        SHOP_RECONCILE_EVERY_SECONDS: '1',
        SHOP_RECONCILE_PENDING_AGE_SECONDS: '1',
      },
    });
    const { hostname, port } = new URL(sys.gateway.url);
    stripe = new Stripe(sys.secrets.demoMerchantStripeApiKey, {
      host: hostname,
      port: Number(port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
  });
  after(async () => {
    await sys?.stop();
    recordProof({
      suite: SUITE,
      size: proofSize(),
      seed,
      cases: total,
      wronglyAccepted: counts.wronglyAccepted,
      lost: counts.lost,
      doubleFulfilled: counts.doubleFulfilled,
      recovered: counts.dropped,
      failures,
      figures: { stripePayments: total, stripeDroppedDeliveries: counts.dropped },
    });
  });

  const faults = (enabled: boolean) =>
    sys.gatewayApi('/v1/admin/fault_injection', {
      method: 'PUT',
      body: {
        enabled,
        seed: `${seed}/chaos-stripe-webhooks`,
        config: {
          webhooks: {
            drop: 0.2,
            drop_permanently: true,
            duplicate: 0.5,
            duplicate_copies: 4,
            reorder: 0.3,
            reorder_window_ms: 1000,
          },
        },
      },
    });

  async function buyAndPay(client: ShopClient, card: Payment['card']): Promise<Payment> {
    const lines = [{ productId: sys.productIds[random.int(sys.productIds.length)]!, quantity: 1 }];
    const cartId = await sys.checkout(client, lines);
    const location = (await client.send('/checkout/pay', { form: { cartId } })).headers.get('location') ?? '';
    const sessionId = location.slice(location.lastIndexOf('/') + 1);
    const [attempt] = await sys.shopDb.db
      .select()
      .from(paymentAttempts)
      .where(eq(paymentAttempts.gatewaySessionId, `cs_${sessionId.slice(3)}`));
    assert.ok(attempt, `"Pay now" opened a Checkout Session (${location}); ${hint}`);
    const paid = await sys.payCard(sessionId, card === 'approved' ? APPROVE : DECLINE);
    assert.equal(paid.status, 200, `the hosted page took the card; ${hint}`);
    return { card, invoiceId: attempt.invoiceId, sessionId };
  }

  function fail(p: Payment, what: keyof typeof counts, detail: string) {
    counts[what]++;
    failures.push({ case: `stripe ${p.card} ${p.sessionId}`, detail });
  }

  /** Where a payment ended, at the shop, the gateway and the bank. */
  async function outcome(p: Payment) {
    const invoice = (await sys.shopDb.db.select().from(invoices).where(eq(invoices.id, p.invoiceId)))[0]!;
    const pays = (
      await sys.shopDb.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'invoice.pay'), eq(auditLog.subject, p.invoiceId)))
    ).length;
    const pi = await stripe.paymentIntents.retrieve(`pi_${p.sessionId.slice(3)}`);
    const [s] = await sys.gatewayDb.db.select().from(paymentSessions).where(eq(paymentSessions.id, p.sessionId));
    const captures = s?.bankAuthorizationId
      ? (
          await sys.bankDb.db
            .select()
            .from(movements)
            .where(and(eq(movements.authorizationId, s.bankAuthorizationId), eq(movements.kind, 'capture')))
        ).length
      : 0;
    return { invoice: invoice.status, pays, pi: pi.status, received: pi.amount_received, captures };
  }

  it(`${total} payments under duplicated, reordered and dropped Stripe webhooks end as their cards say`, async () => {
    assert.equal((await faults(true)).status, 200);
    // One customer (one cart) buying one after another; the webhooks of earlier payments race the later ones.
    const client = await sys.login('customer');
    const payments: Payment[] = [];
    // Drawn from the seed, about three in four approved, but always both kinds (12 draws at 0.75 were
    // all approved in 3 % of seeds, which failed the check below rather than the system).
    const cards = random.shuffle<Payment['card']>([
      'approved',
      'declined',
      ...Array.from({ length: total - 2 }, () => (random.chance(0.75) ? 'approved' : 'declined') as Payment['card']),
    ]);
    for (const card of cards) payments.push(await buyAndPay(client, card));
    // Every approved payment reaches the shop (webhook or, when dropped, the event list) and is captured.
    const settleMs = sized(90_000, 1_800_000);
    const done = async (p: Payment) => {
      const o = await outcome(p);
      return p.card === 'declined' ? o.pi === 'requires_payment_method' : o.invoice === 'paid' && o.pi === 'succeeded';
    };
    await eventually(
      async () => {
        for (const p of payments) if (!(await done(p))) return undefined;
        return true;
      },
      settleMs,
      `every payment settled; ${hint}`,
    ).catch(() => undefined);
    assert.equal((await faults(false)).status, 200);

    for (const p of payments) {
      const o = await outcome(p);
      if (o.pays > 1 || o.captures > 1)
        fail(p, 'doubleFulfilled', `paid ${o.pays}×, captured ${o.captures}× at the bank`);
      if (p.card === 'approved') {
        if (o.invoice !== 'paid' || o.pi !== 'succeeded' || o.captures !== 1)
          fail(p, 'lost', `approved but invoice ${o.invoice}, PaymentIntent ${o.pi}, ${o.captures} captures`);
      } else if (o.invoice === 'paid' || o.received > 0 || o.captures > 0)
        fail(p, 'wronglyAccepted', `declined but invoice ${o.invoice}, ${o.received} received, ${o.captures} captures`);
    }
    const [dropped] = await rows<{ n: number }>(
      sys.gatewayDb.db,
      sql`select count(*)::int as n from webhook_attempts where error = 'fault_injected: dropped'`,
    );
    counts.dropped = dropped!.n;
    assert.deepEqual(failures, [], hint);
    assert.ok(counts.dropped > 0, `the faults dropped deliveries, so the event list had something to recover; ${hint}`);
    // The books after the storm, as `countersign ledger verify` checks them: both ledgers and the three-way
    // match, with the shop's Stripe ids read back as the gateway's sessions.
    const books = await verifyBooks({ gateway: sys.gatewayDb.db, bank: sys.bankDb.db, shop: sys.shopDb.db });
    assert.deepEqual(books.findings, [], `ledger verify (0 unbalanced, 0 unmatched); ${hint}`);
    const approved = payments.filter((p) => p.card === 'approved').length;
    assert.equal(books.matched.shopPaid, approved, `every approved payment matched at the shop; ${hint}`);
    assert.equal(books.matched.bankCaptures, books.matched.gatewayCaptures, `gateway and bank captures; ${hint}`);
  });
});
