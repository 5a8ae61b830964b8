// Proof suite "concurrency" (issue 8, item 4): 50 simultaneous identical or conflicting submissions
// on the checkout, "Pay now", the webhook intake and the staff refund form, repeated sized(3, 30)
// rounds, with the shop, the real gateway and the real bank over real HTTP on real PostgreSQL (the
// shop's worker running, so refunds are executed at the gateway and the bank). Every round must have
// exactly one effect: counted in the shop's database and on the gateway's and the bank's side.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { authorizations, bankRefunds, movements } from '../src/bank/storage/schema.ts';
import { eventually } from '../src/gateway/testing.ts';
import {
  events as gatewayEventsFeed,
  paymentSessions,
  refunds as gatewayRefunds,
} from '../src/gateway/storage/tables.ts';
import { gatewayEvents } from '../src/shop/storage/tables.ts';
import { refunds } from '../src/shop/storage/tables.ts';
import { auditLog, invoices, orders, orderStatusEvents, paymentAttempts } from '../src/shop/storage/tables.ts';
import {
  proofRandom,
  proofSeed,
  proofSize,
  recordProof,
  replayHint,
  sized,
  type ProofFailure,
} from './support/proof.ts';
import { startProofSystem, type ProofSystem } from './support/harness/in-process.ts';
import type { ShopClient } from './support/shop-client.ts';
import { findingKey, settledBooks } from './support/books.ts';

const SUITE = 'concurrency';
const seed = proofSeed();
const random = proofRandom(seed);
const hint = replayHint(SUITE, seed);
const ROUNDS = sized(3, 30);
const N = 50;

describe(`concurrency: ${N} simultaneous submissions, exactly one effect each time (${ROUNDS} rounds each)`, () => {
  let sys: ProofSystem;
  let customer: ShopClient;
  let staff: ShopClient;
  let submissions = 0;
  /** Invoices the conflicting-authorisations case paid with authorisations the gateway never made. */
  const forgedPaid: string[] = [];
  let doubleFulfilled = 0;
  let lost = 0;
  const failures: ProofFailure[] = [];
  const figures: Record<string, number> = {};

  before(async () => {
    sys = await startProofSystem({
      jobs: true,
      // Refunds go straight to the gateway (no approval); the periodic jobs stay out of the way.
      shopEnv: {
        SHOP_REFUND_APPROVAL_THRESHOLD_MINOR: '100000000',
        SHOP_RECONCILE_EVERY_SECONDS: '3600',
        SHOP_EXPIRY_EVERY_SECONDS: '3600',
      },
    });
    [customer, staff] = await Promise.all([sys.login('customer'), sys.login('staff')]);
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
      figures: { rounds: ROUNDS, perBurst: N, ...figures },
    });
  });

  /** Counts an effect that must be exactly one; records a double (or a missing) fulfilment. */
  function exactlyOne(what: string, round: number, got: number) {
    if (got > 1) doubleFulfilled++;
    if (got < 1) lost++;
    if (got !== 1) failures.push({ case: `${what} (round ${round})`, detail: `${got} instead of 1` });
    assert.equal(got, 1, `${what}, round ${round}: ${got} instead of exactly one (${hint})`);
  }
  const burst = async <T>(what: string, make: (i: number) => Promise<T>): Promise<T[]> => {
    submissions += N;
    figures[what] = (figures[what] ?? 0) + N;
    return Promise.all(Array.from({ length: N }, (_, i) => make(i)));
  };
  const lines = () => [{ productId: sys.productIds[random.int(sys.productIds.length)]!, quantity: 1 + random.int(3) }];
  const shopDb = () => sys.shopDb.db;
  const invoiceRow = async (id: string) => (await shopDb().select().from(invoices).where(eq(invoices.id, id)))[0]!;
  const gatewaySessionsFor = async (invoiceId: string) =>
    sys.gatewayDb.db.select().from(paymentSessions).where(eq(paymentSessions.merchantReference, invoiceId));
  const audits = async (action: string, subject: string) =>
    (
      await shopDb()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, action), eq(auditLog.subject, subject)))
    ).length;
  const paidTransitions = async (orderId: string) =>
    (
      await shopDb()
        .select()
        .from(orderStatusEvents)
        .where(and(eq(orderStatusEvents.orderId, orderId), eq(orderStatusEvents.toStatus, 'paid')))
    ).length;
  const bankAuthorizationOf = async (sessionId: string) => {
    const [s] = await sys.gatewayDb.db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
    return (
      await sys.bankDb.db.select().from(authorizations).where(eq(authorizations.id, s!.bankAuthorizationId!))
    )[0]!;
  };
  const paidInvoice = async () => {
    const p = await sys.payNow(customer, lines());
    assert.ok((await sys.payCard(p.sessionId)).status < 300);
    await sys.settled(p.sessionId, ['captured']);
    await eventually(
      async () => ((await invoiceRow(p.invoiceId)).status === 'paid' ? true : undefined),
      10_000,
      'invoice paid',
    );
    return p;
  };

  it(`checkout: ${N} simultaneous "Pay now" of the same cart place one order, one invoice, one attempt and one gateway session`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const cartId = await sys.checkout(customer, lines());
      const csrf = await customer.csrf();
      const answers = await burst('checkout', () => customer.send('/checkout/pay', { form: { cartId }, csrf }));
      const statuses = answers.map((a) => a.status);
      assert.ok(
        statuses.every((s) => s === 303),
        `every click is answered with a redirect, got ${[...new Set(statuses)].join(',')} (${hint})`,
      );
      const placed = await shopDb().select().from(orders).where(eq(orders.cartId, cartId));
      exactlyOne('orders for one cart', round, placed.length);
      const issued = await shopDb().select().from(invoices).where(eq(invoices.orderId, placed[0]!.id));
      exactlyOne('invoices for one order', round, issued.length);
      exactlyOne(
        'payment attempts for one invoice',
        round,
        (await shopDb().select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, issued[0]!.id))).length,
      );
      exactlyOne('gateway sessions for one invoice', round, (await gatewaySessionsFor(issued[0]!.id)).length);
      const targets = new Set(answers.map((a) => a.headers.get('location')));
      assert.equal(targets.size, 1, `every click goes to the same hosted page: ${[...targets].join(' ')}`);
    }
  });

  it(`pay: ${N} simultaneous "Pay now" on an order whose invoice was replaced make one new invoice, one attempt and one gateway session`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const p = await sys.payNow(customer, lines());
      const change = await customer.send(`/orders/${p.orderId}/delivery`, {
        form: { deliveryMethodId: sys.deliveryIds[1 + (round % 2)]! },
      });
      assert.equal(change.status, 303);
      const csrf = await customer.csrf();
      const answers = await burst('pay', () => customer.send(`/orders/${p.orderId}/pay`, { form: {}, csrf }));
      assert.ok(
        answers.every((a) => a.status === 303),
        `statuses ${[...new Set(answers.map((a) => a.status))].join(',')} (${hint})`,
      );
      const open = await shopDb()
        .select()
        .from(invoices)
        .where(and(eq(invoices.orderId, p.orderId), eq(invoices.status, 'open')));
      exactlyOne('open invoices after the order changed', round, open.length);
      exactlyOne(
        'payment attempts for the new invoice',
        round,
        (await shopDb().select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, open[0]!.id))).length,
      );
      exactlyOne('gateway sessions for the new invoice', round, (await gatewaySessionsFor(open[0]!.id)).length);
    }
  });

  it(`webhooks: ${N} identical signed deliveries of one authorisation, racing the gateway's own, pay once, audit once and are captured once by the gateway and the bank`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const p = await sys.payNow(customer, lines());
      const paying = sys.payCard(p.sessionId);
      // The authorisation event as the gateway recorded it, sent again N times with its own id while the gateway delivers it.
      const authorised = await eventually(
        async () => {
          const [e] = await sys.gatewayDb.db
            .select()
            .from(gatewayEventsFeed)
            .where(and(eq(gatewayEventsFeed.sessionId, p.sessionId), eq(gatewayEventsFeed.type, 'payment.authorized')));
          return e;
        },
        10_000,
        'the authorisation event',
      );
      const answers = await burst('webhooks identical', () => sys.deliver(authorised.payload as { id: string }));
      assert.ok((await paying).status < 300);
      assert.ok(
        answers.every((a) => a.status === 200),
        `every copy acknowledged, got ${[...new Set(answers.map((a) => a.status))].join(',')} (${hint})`,
      );
      await sys.settled(p.sessionId, ['captured']);
      exactlyOne('paid transitions of the invoice (audit)', round, await audits('invoice.pay', p.invoiceId));
      exactlyOne('order status changes to paid', round, await paidTransitions(p.orderId));
      exactlyOne(
        'dedupe rows for the event',
        round,
        (await shopDb().select().from(gatewayEvents).where(eq(gatewayEvents.eventId, authorised.id))).length,
      );
      const auth = await bankAuthorizationOf(p.sessionId);
      exactlyOne(
        'capture movements at the bank',
        round,
        (
          await sys.bankDb.db
            .select()
            .from(movements)
            .where(and(eq(movements.authorizationId, auth.id), eq(movements.kind, 'capture')))
        ).length,
      );
      assert.equal(
        auth.capturedMinor,
        (await invoiceRow(p.invoiceId)).amountMinor,
        'captured exactly the invoice amount',
      );
    }
  });

  it(`webhooks: ${N} conflicting authorisations (different event ids, two sessions) for the same invoice pay it once; the others are refused or ignored`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const p = await sys.payNow(customer, lines());
      const inv = await invoiceRow(p.invoiceId);
      const created = await sys.gatewayApi('/v1/payment_sessions', {
        body: {
          amount: { minor: inv.amountMinor.toString(), currency: 'EUR' },
          merchant_reference: p.invoiceId,
          description: 'second tab',
          return_url: 'http://shop.test/r',
        },
      });
      assert.equal(created.status, 201);
      const second = ((await created.json()) as { id: string }).id;
      forgedPaid.push(p.invoiceId);
      const answers = await burst('webhooks conflicting', (i) =>
        sys.deliver({
          id: `evt_${randomBytes(10).toString('hex')}`,
          type: 'payment.authorized',
          created_at: new Date().toISOString(),
          data: {
            session_id: i % 2 === 0 ? p.sessionId : second,
            merchant_reference: p.invoiceId,
            amount: { minor: inv.amountMinor.toString(), currency: 'EUR' },
            status: 'authorized',
            sequence: 2 + random.int(40),
          },
        }),
      );
      assert.equal((await invoiceRow(p.invoiceId)).status, 'paid');
      exactlyOne('paid transitions of the invoice (audit)', round, await audits('invoice.pay', p.invoiceId));
      exactlyOne('order status changes to paid', round, await paidTransitions(p.orderId));
      const attempts = await shopDb().select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, p.invoiceId));
      exactlyOne('attempts that paid the invoice', round, attempts.filter((a) => a.status === 'paid').length);
      const winner = attempts.find((a) => a.status === 'paid')!.gatewaySessionId;
      const refusedFromWinner = answers.filter(
        (a, i) => a.status === 409 && (i % 2 === 0 ? p.sessionId : second) === winner,
      ).length;
      assert.equal(refusedFromWinner, 0, 'the paying session is never refused');
      assert.ok(
        answers.every((a) => a.status === 200 || a.status === 409),
        `statuses ${[...new Set(answers.map((a) => a.status))].join(',')}`,
      );
    }
  });

  it(`refund: ${N} identical submissions of one refund form make one refund, executed once at the gateway and the bank`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const p = await paidInvoice();
      const page = await (await staff.send(`/staff/orders/${p.orderId}`)).text();
      const requestKey = /name="requestKey" value="([^"]+)"/.exec(page)?.[1];
      assert.ok(requestKey, 'the refund form carries a one-time key');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
      const answers = await burst('refund identical', () =>
        staff.send(`/staff/orders/${p.orderId}/refunds`, {
          form: { invoiceId: p.invoiceId, amount: '1.00', reason: 'double click', requestKey },
          csrf,
        }),
      );
      assert.ok(
        answers.every((a) => a.status === 303),
        `statuses ${[...new Set(answers.map((a) => a.status))].join(',')} (${hint})`,
      );
      const made = await shopDb().select().from(refunds).where(eq(refunds.invoiceId, p.invoiceId));
      exactlyOne('refunds from one form', round, made.length);
      await eventually(
        async () =>
          (await shopDb().select().from(refunds).where(eq(refunds.id, made[0]!.id)))[0]!.status === 'succeeded'
            ? true
            : undefined,
        20_000,
        'refund succeeded',
      );
      exactlyOne(
        'refunds at the gateway',
        round,
        (await sys.gatewayDb.db.select().from(gatewayRefunds).where(eq(gatewayRefunds.sessionId, p.sessionId))).length,
      );
      const auth = await bankAuthorizationOf(p.sessionId);
      exactlyOne(
        'refunds at the bank',
        round,
        (await sys.bankDb.db.select().from(bankRefunds).where(eq(bankRefunds.authorizationId, auth.id))).length,
      );
      assert.equal(auth.refundedMinor, 100n);
    }
  });

  it(`refund: ${N} conflicting refunds that each fit but together exceed the captured amount never exceed it, and each accepted one is executed once at the gateway and the bank`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const p = await paidInvoice();
      const captured = (await invoiceRow(p.invoiceId)).amountMinor;
      const parts = BigInt(2 + random.int(6));
      const each = captured / parts + 1n; // parts - 1 of them fit, one more would exceed
      const fit = Number(captured / each);
      const csrf = await staff.csrf();
      const answers = await burst('refund conflicting', (i) =>
        staff.send(`/staff/orders/${p.orderId}/refunds`, {
          form: {
            invoiceId: p.invoiceId,
            amount: (Number(each) / 100).toFixed(2),
            reason: `race ${i}`,
            requestKey: randomBytes(18).toString('base64url'),
          },
          csrf,
        }),
      );
      const accepted = answers.filter((a) => a.status === 303).length;
      assert.equal(accepted, fit, `${accepted} accepted, ${fit} fit (${hint})`);
      assert.ok(
        answers.every((a) => a.status === 303 || a.status === 409),
        `statuses ${[...new Set(answers.map((a) => a.status))].join(',')}`,
      );
      const rows = await eventually(
        async () => {
          const r = await shopDb()
            .select()
            .from(refunds)
            .where(and(eq(refunds.invoiceId, p.invoiceId), inArray(refunds.status, ['succeeded'])));
          return r.length === fit ? r : undefined;
        },
        30_000,
        `${fit} refunds succeeded`,
      );
      const sum = rows.reduce((s, r) => s + r.amountMinor, 0n);
      if (sum > captured) {
        doubleFulfilled++;
        failures.push({ case: `refunds above captured (round ${round})`, detail: `${sum} > ${captured}` });
      }
      assert.ok(sum <= captured, `refunded ${sum} of ${captured} (${hint})`);
      const atGateway = await sys.gatewayDb.db
        .select()
        .from(gatewayRefunds)
        .where(eq(gatewayRefunds.sessionId, p.sessionId));
      const auth = await bankAuthorizationOf(p.sessionId);
      const atBank = await sys.bankDb.db.select().from(bankRefunds).where(eq(bankRefunds.authorizationId, auth.id));
      for (const [where, n] of [
        ['gateway', atGateway.length],
        ['bank', atBank.length],
      ] as const) {
        if (n !== fit) {
          if (n > fit) doubleFulfilled++;
          failures.push({
            case: `refunds executed at the ${where} (round ${round})`,
            detail: `${n} for ${fit} accepted`,
          });
        }
        assert.equal(n, fit, `refunds executed at the ${where}: ${n} for ${fit} accepted (${hint})`);
      }
      assert.equal(auth.refundedMinor, sum, 'the bank refunded exactly the sum');
    }
  });

  it('the report: no submission was fulfilled twice or lost', () => {
    assert.ok(submissions >= 6 * N * ROUNDS, `${submissions} submissions`);
    assert.equal(doubleFulfilled, 0, `${doubleFulfilled} double fulfilments: ${JSON.stringify(failures)} (${hint})`);
    assert.equal(lost, 0, `${lost} lost: ${JSON.stringify(failures)} (${hint})`);
  });

  it('the books after the races: both ledgers balance, and the three-way match lists exactly the invoices this suite paid by forged authorisations', async () => {
    // The conflicting-authorisations case plays the gateway: it signs `payment.authorized` for sessions
    // the gateway never authorised, and the shop, trusting the signature, is paid. The gateway never
    // captured them, so the match must name each of those invoices — and nothing else.
    const expected = forgedPaid.map((id) => `match shop_paid_not_captured ${id}`);
    const books = await settledBooks(
      { gateway: sys.gatewayDb.db, bank: sys.bankDb.db, shop: sys.shopDb.db },
      { expected },
    );
    assert.deepEqual(
      books.findings.map(findingKey).sort(),
      expected.sort(),
      'ledger verify: 0 unbalanced, only the planted',
    );
    assert.ok(
      books.transfers > 0 && (books.matched.shopPaid ?? 0) > 0,
      `the books recorded the races: ${JSON.stringify(books.matched)}`,
    );
  });
});
