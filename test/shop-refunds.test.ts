// Refunds in the shop's storage on both engines: staff only through the routes (see the HTTP test),
// a reason required, full or partial, never more than captured — also with 20 concurrent requests —,
// a second, different staff member's approval above the threshold, execution at the gateway as a job
// (Idempotency-Key = our refund id), status from the gateway's refund news, the customer notified,
// the invoice and order refunded by the last one, every change audited in the chain.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { isDomainError } from '../src/core/errors.ts';
import { money, type Money } from '../src/core/money.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { jobs } from '../src/platform/jobs/jobs.schema.ts';
import { realtimeMessages } from '../src/platform/realtime/realtime.schema.ts';
import type { RefundRequest, RefundResult } from '../src/shop/domain/gateway.port.ts';
import { loadShopConfig, shopDatabaseSpec } from '../src/shop/main.ts';
import { ConfigError } from '../src/platform/config.ts';
import { applyRefundEvent } from '../src/shop/commands/apply-refund-event.ts';
import { approveRefund, rejectRefund } from '../src/shop/commands/decide-refund.ts';
import { executeRefund } from '../src/shop/commands/execute-refund.ts';
import { notificationsFor, refundableMinor, refundsForOrder } from '../src/shop/storage/refunds.ts';
import { REFUND_EXECUTE_TASK } from '../src/shop/commands/refund-transition.ts';
import { refundTasks } from '../src/shop/jobs/refunds.ts';
import { refundApprovalThreshold } from '../src/shop/main.ts';
import { refunds } from '../src/shop/storage/tables.ts';
import { requestRefund } from '../src/shop/commands/request-refund.ts';
import { createUser } from '../src/shop/storage/accounts.ts';
import { verifyAuditChain } from '../src/shop/storage/audit.ts';
import { sealAll } from '../src/shop/audit/sealer.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../src/shop/storage/cart.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { ensureDemoData } from '../src/shop/storage/demo-data.ts';
import { applyInvoiceEvent } from '../src/shop/commands/invoice-transition.ts';
import { invoiceForPayment } from '../src/shop/commands/invoice-for-payment.ts';
import { placeOrder } from '../src/shop/commands/place-order.ts';
import { type InvoiceRow } from '../src/shop/storage/orders.ts';
import { auditLog, invoices, orders, paymentAttempts, users } from '../src/shop/storage/tables.ts';

/** A gateway behind the port's createRefund: records calls, answers what the test scripts. */
class FakeRefundGateway {
  readonly calls: RefundRequest[] = [];
  answer: RefundResult['status'] | 'throw' = 'pending';
  async createRefund(request: RefundRequest): Promise<RefundResult> {
    this.calls.push(request);
    if (this.answer === 'throw') throw new Error('connection reset');
    if (this.answer === 'failed') return { refundId: '', status: 'failed', reason: 'refund.exceeds_captured' };
    return { refundId: `ref_gw_${request.refundId}`, status: this.answer };
  }
}

const EUR = (minor: number): Money => money(BigInt(minor), 'EUR');
const THRESHOLD = 10_000n;

for (const engine of testEngines()) {
  describe(`shop refunds on ${engine}`, () => {
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    let customerId: string;
    let staffId: string;
    let staff2Id: string;
    let n = 0;

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      await ensureDemoData(database, clock.now());
      customerId = (await database.db.select().from(users).where(eq(users.email, 'customer@shop.test')))[0]!.id;
      staffId = (await database.db.select().from(users).where(eq(users.email, 'staff@shop.test')))[0]!.id;
      staff2Id = (
        await createUser(
          database.db,
          { email: 'approver@shop.test', name: 'Approver', password: 'approver-password', role: 'staff' },
          clock.now(),
        )
      ).id;
    });
    after(async () => {
      await database.close();
    });

    /** A paid invoice (captured through a gateway session) for an order of `quantity` of the first product. */
    async function paidInvoice(quantity = 1, pay = true): Promise<InvoiceRow> {
      const [product] = await listProducts(database.db);
      await addToCart(database.db, customerId, product!.id, quantity, clock.now());
      await chooseCartDelivery(database.db, customerId, (await listDeliveryMethods(database.db))[0]!.id, clock.now());
      await saveCartAddress(
        database.db,
        customerId,
        { fullName: 'Ada', line1: '1 St', line2: '', postalCode: '10115', city: 'Berlin', country: 'DE' },
        clock.now(),
      );
      const order = await placeOrder(database.db, customerId, clock.now());
      const invoice = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      if (!pay) return invoice;
      await database.transaction(async (tx) => {
        await tx.insert(paymentAttempts).values({
          id: `att_t${++n}${engine}`,
          invoiceId: invoice.id,
          status: 'captured',
          gatewaySessionId: `ps_t${n}${engine}`,
          createdAt: clock.now(),
          updatedAt: clock.now(),
        });
        await applyInvoiceEvent(tx, invoice.id, 'pay', 'gateway', clock.now());
      });
      return (await database.db.select().from(invoices).where(eq(invoices.id, invoice.id)))[0]!;
    }

    const request = (
      invoice: InvoiceRow,
      minor: number,
      reason: string | undefined = 'damaged in transit',
      staff = staffId,
    ) =>
      requestRefund(
        database,
        { invoiceId: invoice.id, amount: EUR(minor), reason, staffId: staff, approvalThresholdMinor: THRESHOLD },
        clock,
      );

    it('refunds part, then the rest: queued as a job, executed at the gateway with our id as key, succeeded by the gateway news, invoice and order refunded at the end, customer notified', async () => {
      const invoice = await paidInvoice(1);
      const amount = Number(invoice.amountMinor);
      const gateway = new FakeRefundGateway();
      const first = await request(invoice, 500);
      assert.equal(first.status, 'pending');
      assert.match(first.id, /^ref_/);
      const [job] = await database.db
        .select()
        .from(jobs)
        .where(eq(jobs.key, `refund:${first.id}`));
      assert.equal(job!.task, REFUND_EXECUTE_TASK);

      await refundTasks({ database, gateway, clock })[REFUND_EXECUTE_TASK]!(
        { refundId: first.id },
        { jobId: job!.id, attempt: 1, task: REFUND_EXECUTE_TASK, signal: new AbortController().signal },
      );
      assert.deepEqual(
        gateway.calls.map((c) => [c.refundId, c.sessionId, c.amount.minor, c.reason]),
        [
          [
            first.id,
            (await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, invoice.id)))[0]!
              .gatewaySessionId,
            500n,
            'damaged in transit',
          ],
        ],
      );
      let [row] = await database.db.select().from(refunds).where(eq(refunds.id, first.id));
      assert.equal(row!.status, 'submitted');
      assert.equal(row!.gatewayRefundId, `ref_gw_${first.id}`);
      // A repeated run of the job (at-least-once) does not ask the gateway again.
      await executeRefund({ database, gateway, clock }, first.id, 2);
      assert.equal(gateway.calls.length, 1);

      await database.transaction((tx) =>
        applyRefundEvent(
          tx,
          {
            id: 'evt_r1',
            sessionId: row!.sessionId,
            invoiceId: invoice.id,
            refund: { id: `ref_gw_${first.id}`, amount: EUR(500), refundedTotal: EUR(500) },
          },
          clock.now(),
        ),
      );
      [row] = await database.db.select().from(refunds).where(eq(refunds.id, first.id));
      assert.equal(row!.status, 'succeeded');
      assert.equal(
        (await database.db.select().from(invoices).where(eq(invoices.id, invoice.id)))[0]!.status,
        'paid',
        'a partial refund leaves the invoice paid',
      );
      const notes = await notificationsFor(database.db, customerId, invoice.orderId);
      assert.equal(notes.length, 1);
      assert.match(notes[0]!.message, /€5\.00 has been refunded/);

      gateway.answer = 'succeeded';
      const rest = await request(invoice, amount - 500, 'customer returned everything');
      await executeRefund({ database, gateway, clock }, rest.id, 1);
      assert.equal((await database.db.select().from(refunds).where(eq(refunds.id, rest.id)))[0]!.status, 'succeeded');
      assert.equal(
        (await database.db.select().from(invoices).where(eq(invoices.id, invoice.id)))[0]!.status,
        'refunded',
      );
      assert.equal(
        (await database.db.select().from(orders).where(eq(orders.id, invoice.orderId)))[0]!.status,
        'refunded',
      );
      assert.equal((await notificationsFor(database.db, customerId, invoice.orderId)).length, 2);
      // The webhook for it arriving later changes nothing more (no second invoice transition).
      await database.transaction((tx) =>
        applyRefundEvent(
          tx,
          {
            id: 'evt_r2',
            sessionId: row!.sessionId,
            invoiceId: invoice.id,
            refund: { id: `ref_gw_${rest.id}`, amount: EUR(amount - 500), refundedTotal: EUR(amount) },
          },
          clock.now(),
        ),
      );
      assert.equal((await refundsForOrder(database.db, invoice.orderId)).length, 2);

      const actions = (await database.db.select().from(auditLog))
        .filter((e) => e.subject === first.id || e.subject === rest.id)
        .map((e) => e.action);
      // Every refund is submitted before the gateway is asked (even one it answers as succeeded at once).
      assert.deepEqual(actions, [
        'refund.requested',
        'refund.submit',
        'refund.succeed',
        'refund.requested',
        'refund.submit',
        'refund.succeed',
      ]);
      assert.ok(
        (await database.db.select().from(auditLog)).some(
          (e) => e.action === 'invoice.refund' && e.subject === invoice.id,
        ),
      );
      // Each change was published to the invoice's real-time room (the owner's open invoice page).
      const pushed = (
        await database.db
          .select()
          .from(realtimeMessages)
          .where(eq(realtimeMessages.room, `invoice:${invoice.id}`))
      ).map((m) => m.payload as { refund?: { id: string; status: string }; status?: string });
      assert.deepEqual(
        pushed.filter((p) => p.refund?.id === first.id).map((p) => p.refund!.status),
        ['pending', 'submitted', 'succeeded'],
      );
      assert.ok(pushed.some((p) => p.status === 'refunded'));
      assert.ok((await sealAll(database)) > 0, 'the refund wrote audit entries');
      assert.equal(await verifyAuditChain(database.db), null);
      await assert.rejects(request(invoice, 1), (e) => isDomainError(e, 'refund.not_allowed'));
    });

    it('requires a reason and a positive amount in the invoice currency, and refuses unpaid invoices and more than captured', async () => {
      const invoice = await paidInvoice(1);
      await assert.rejects(request(invoice, 100, '  '), (e) => isDomainError(e, 'refund.reason_required'));
      await assert.rejects(
        requestRefund(
          database,
          { invoiceId: invoice.id, amount: EUR(100), reason: undefined, staffId, approvalThresholdMinor: THRESHOLD },
          clock,
        ),
        (e) => isDomainError(e, 'refund.reason_required'),
      );
      await assert.rejects(request(invoice, 0), (e) => isDomainError(e, 'money.invalid'));
      await assert.rejects(
        requestRefund(
          database,
          {
            invoiceId: invoice.id,
            amount: money(100n, 'USD'),
            reason: 'wrong currency',
            staffId,
            approvalThresholdMinor: THRESHOLD,
          },
          clock,
        ),
        (e) => isDomainError(e, 'money.currency_mismatch'),
      );
      await assert.rejects(request(invoice, Number(invoice.amountMinor) + 1), (e) =>
        isDomainError(e, 'refund.exceeds_captured'),
      );
      const unpaid = await paidInvoice(1, false);
      await assert.rejects(request(unpaid, 100), (e) => isDomainError(e, 'refund.not_allowed'));
      await assert.rejects(
        requestRefund(
          database,
          {
            invoiceId: 'inv_nothing',
            amount: EUR(1),
            reason: 'nothing here',
            staffId,
            approvalThresholdMinor: THRESHOLD,
          },
          clock,
        ),
        (e) => isDomainError(e, 'not_found'),
      );
      assert.equal((await refundsForOrder(database.db, invoice.orderId)).length, 0);
    });

    it('holds a refund above the threshold until a second, different staff member approves it; a rejected one releases its amount', async () => {
      const invoice = await paidInvoice(30); // well above twice €100
      const big = await request(invoice, Number(THRESHOLD) + 1);
      assert.equal(big.status, 'awaiting_approval');
      assert.equal(
        (
          await database.db
            .select()
            .from(jobs)
            .where(eq(jobs.key, `refund:${big.id}`))
        ).length,
        0,
        'nothing is sent before approval',
      );
      await assert.rejects(approveRefund(database, big.id, staffId, clock), (e) =>
        isDomainError(e, 'refund.approval_by_requester'),
      );
      const approved = await approveRefund(database, big.id, staff2Id, clock);
      assert.equal(approved.status, 'pending');
      assert.equal(approved.approvedBy, staff2Id);
      assert.equal(
        (
          await database.db
            .select()
            .from(jobs)
            .where(eq(jobs.key, `refund:${big.id}`))
        ).length,
        1,
      );
      await assert.rejects(approveRefund(database, big.id, staff2Id, clock), (e) =>
        isDomainError(e, 'state.illegal_transition'),
      );

      const atThreshold = await request(invoice, Number(THRESHOLD));
      assert.equal(atThreshold.status, 'pending', 'exactly the threshold needs no approval');

      const remaining = await refundableMinor(database.db, invoice);
      const other = await request(invoice, Number(remaining), 'goodwill');
      assert.equal(other.status, 'awaiting_approval');
      await assert.rejects(
        request(invoice, 1),
        (e) => isDomainError(e, 'refund.exceeds_captured'),
        'awaiting approval reserves its amount',
      );
      await rejectRefund(database, other.id, staff2Id, clock);
      assert.equal(await refundableMinor(database.db, invoice), remaining, 'rejection releases it');
      const actions = (await database.db.select().from(auditLog).where(eq(auditLog.subject, big.id))).map(
        (e) => `${e.actor}:${e.action}`,
      );
      assert.deepEqual(actions, [`${staffId}:refund.requested`, `${staff2Id}:refund.approve`]);
      assert.equal(refundApprovalThreshold({}), 10_000n);
      assert.equal(refundApprovalThreshold({ SHOP_REFUND_APPROVAL_THRESHOLD_MINOR: '2500' }), 2500n);
      assert.throws(
        () => refundApprovalThreshold({ SHOP_REFUND_APPROVAL_THRESHOLD_MINOR: '12.5' }),
        /SHOP_REFUND_APPROVAL_THRESHOLD_MINOR/,
      );
      const base = { SHOP_PORT: '0', SHOP_SESSION_SECRET: 'x'.repeat(40) };
      assert.equal(
        loadShopConfig({ ...base, SHOP_REFUND_APPROVAL_THRESHOLD_MINOR: '2500' }).settings.refundApprovalThresholdMinor,
        2500n,
      );
      assert.equal(loadShopConfig(base).settings.refundApprovalThresholdMinor, 10_000n);
      assert.throws(
        () => loadShopConfig({ ...base, SHOP_REFUND_APPROVAL_THRESHOLD_MINOR: '-1' }),
        (e) => e instanceof ConfigError && /SHOP_REFUND_APPROVAL_THRESHOLD_MINOR/.test(e.message),
      );
    });

    it('lets exactly the allowed ones of 20 concurrent refund requests through, never more than captured', async () => {
      const invoice = await paidInvoice(3);
      const captured = Number(invoice.amountMinor);
      const each = Math.floor(captured / 7) + 1; // 6 fit, the 7th would exceed
      const allowed = Math.floor(captured / each);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => request(invoice, each, `concurrent ${i}`)),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(ok.length, allowed);
      assert.ok(
        refused.every((r) => isDomainError(r.reason, 'refund.exceeds_captured')),
        String(refused.find((r) => !isDomainError(r.reason, 'refund.exceeds_captured'))?.reason),
      );
      const stored = await database.db.select().from(refunds).where(eq(refunds.invoiceId, invoice.id));
      assert.equal(stored.length, allowed);
      assert.ok(stored.reduce((s, r) => s + r.amountMinor, 0n) <= invoice.amountMinor);
    });

    it('adopts the refund when the gateway news overtakes its answer, records a refund made at the gateway, and releases one the gateway refused', async () => {
      const invoice = await paidInvoice(2);
      const [attempt] = await database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.invoiceId, invoice.id));
      const gateway = new FakeRefundGateway();
      const r = await request(invoice, 300);
      const waiting = await request(invoice, 300, 'same amount, not sent yet');
      // The gateway's news arrives while the job's call is still in flight (before its answer).
      const overtaken = {
        createRefund: async (): Promise<RefundResult> => {
          await database.transaction((tx) =>
            applyRefundEvent(
              tx,
              {
                id: 'evt_a',
                sessionId: attempt!.gatewaySessionId!,
                invoiceId: invoice.id,
                refund: { id: 'ref_gwX', amount: EUR(300), refundedTotal: EUR(300) },
              },
              clock.now(),
            ),
          );
          return { refundId: 'ref_gwX', status: 'pending' };
        },
      };
      await executeRefund({ database, gateway: overtaken, clock }, r.id, 1);
      let [row] = await database.db.select().from(refunds).where(eq(refunds.id, r.id));
      assert.equal(row!.status, 'succeeded');
      assert.equal(row!.gatewayRefundId, 'ref_gwX');
      await executeRefund({ database, gateway, clock }, r.id, 1);
      assert.equal(gateway.calls.length, 0, 'already settled: not sent');
      // A refund of the same amount still queued was not taken for it: it is executed in its turn.
      assert.equal((await database.db.select().from(refunds).where(eq(refunds.id, waiting.id)))[0]!.status, 'pending');
      await executeRefund({ database, gateway, clock }, waiting.id, 1);
      assert.equal(gateway.calls.length, 1);
      assert.equal(await refundableMinor(database.db, invoice), invoice.amountMinor - 600n);

      await database.transaction((tx) =>
        applyRefundEvent(
          tx,
          {
            id: 'evt_b',
            sessionId: attempt!.gatewaySessionId!,
            invoiceId: invoice.id,
            refund: { id: 'ref_dashboard', amount: EUR(200), refundedTotal: EUR(800) },
          },
          clock.now(),
        ),
      );
      const made = (await database.db.select().from(refunds).where(eq(refunds.gatewayRefundId, 'ref_dashboard')))[0]!;
      assert.deepEqual([made.status, made.requestedBy, made.amountMinor], ['succeeded', 'gateway', 200n]);
      assert.equal(await refundableMinor(database.db, invoice), invoice.amountMinor - 800n);

      gateway.answer = 'failed';
      const refusedOne = await request(invoice, 100);
      await executeRefund({ database, gateway, clock }, refusedOne.id, 1);
      [row] = await database.db.select().from(refunds).where(eq(refunds.id, refusedOne.id));
      assert.deepEqual([row!.status, row!.failure], ['failed', 'refund.exceeds_captured']);
      assert.equal(
        await refundableMinor(database.db, invoice),
        invoice.amountMinor - 800n,
        'a failed refund reserves nothing',
      );

      // News naming no invoice of ours, or carrying no refund, touches nothing.
      assert.equal(
        await database.transaction((tx) =>
          applyRefundEvent(
            tx,
            {
              id: 'evt_c',
              sessionId: 'ps_x',
              invoiceId: 'inv_unknown',
              refund: { id: 'ref_z', amount: EUR(1), refundedTotal: EUR(1) },
            },
            clock.now(),
          ),
        ),
        undefined,
      );
      assert.equal(
        await database.transaction((tx) =>
          applyRefundEvent(tx, { id: 'evt_d', sessionId: 'ps_x', invoiceId: invoice.id }, clock.now()),
        ),
        undefined,
      );
    });

    it('retries while the gateway is unreachable and gives up as failed after the last attempt', async () => {
      const invoice = await paidInvoice(1);
      const gateway = new FakeRefundGateway();
      gateway.answer = 'throw';
      const r = await request(invoice, 100);
      await assert.rejects(executeRefund({ database, gateway, clock }, r.id, 1), /connection reset/);
      assert.equal(
        (await database.db.select().from(refunds).where(eq(refunds.id, r.id)))[0]!.status,
        'submitted',
        'sent, answer unknown: asked again on retry',
      );
      await assert.rejects(executeRefund({ database, gateway: undefined, clock }, r.id, 2), (e) =>
        isDomainError(e, 'config.invalid'),
      );
      await executeRefund({ database, gateway, clock }, r.id, 12);
      const [row] = await database.db
        .select()
        .from(refunds)
        .where(and(eq(refunds.id, r.id)));
      assert.deepEqual([row!.status, row!.failure], ['failed', 'gateway_unreachable']);
      assert.deepEqual(
        gateway.calls.map((c) => c.refundId),
        [r.id, r.id],
        'the same refund id (Idempotency-Key) on every try',
      );
    });
  });
}
