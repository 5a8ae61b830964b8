// Refunds meeting the gateway: the adapter's createRefund (POST /v1/refunds with our refund id as
// Idempotency-Key, retried on 5xx, a 4xx refusal reported as failed), and the gateway's refund news
// (payment.partially_refunded / payment.refunded with data.refund) applied through the shop's one
// gateway-event path on both engines: the refund succeeds once, a duplicate changes nothing, the last
// one refunds the invoice, the order and the attempt.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { money, toJSON, type Money } from '../src/core/money.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { applyGatewayEvent } from '../src/shop/commands/apply-gateway-event.ts';
import { httpAnswer } from '../src/shop/routes/http-answer.ts';
import { createGatewayAdapter, parseGatewayEvent } from '../src/shop/adapters/gateway.native.ts';
import { executeRefund } from '../src/shop/commands/execute-refund.ts';
import { notificationsFor } from '../src/shop/storage/refunds.ts';
import { refunds } from '../src/shop/storage/tables.ts';
import { requestRefund } from '../src/shop/commands/request-refund.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../src/shop/storage/cart.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { ensureDemoData } from '../src/shop/storage/demo-data.ts';
import { applyInvoiceEvent } from '../src/shop/commands/invoice-transition.ts';
import { invoiceForPayment } from '../src/shop/commands/invoice-for-payment.ts';
import { placeOrder } from '../src/shop/commands/place-order.ts';
import { invoices, orders, paymentAttempts, users } from '../src/shop/storage/tables.ts';

const EUR = (minor: bigint): Money => money(minor, 'EUR');

describe('gateway adapter createRefund', () => {
  it('posts the refund with our refund id as Idempotency-Key, retries a 5xx with the same key, and reports a 409 refusal as failed', async () => {
    const seen: Array<{ url: string; key: string | null; body: string }> = [];
    const answers = [
      new Response('{"error":{"code":"internal"}}', { status: 503 }),
      new Response(JSON.stringify({ id: 'ref_gw1', status: 'pending' }), { status: 201 }),
      new Response(JSON.stringify({ error: { code: 'refund.exceeds_captured', message: 'x' } }), { status: 409 }),
    ];
    const adapter = createGatewayAdapter({
      baseUrl: 'http://gateway.test/',
      apiKey: 'sk_test_123456789',
      sleep: async () => undefined,
      fetch: (async (url: string, init: RequestInit) => {
        seen.push({ url, key: new Headers(init.headers).get('idempotency-key'), body: String(init.body) });
        return answers.shift()!;
      }) as typeof fetch,
    });
    const ok = await adapter.createRefund({
      sessionId: 'ps_1',
      refundId: 'ref_ours1',
      amount: EUR(250n),
      reason: 'damaged',
    });
    assert.deepEqual(ok, { refundId: 'ref_gw1', status: 'pending' });
    assert.equal(seen.length, 2);
    assert.ok(seen.every((s) => s.url === 'http://gateway.test/v1/refunds' && s.key === 'ref_ours1'));
    assert.deepEqual(JSON.parse(seen[1]!.body), {
      session_id: 'ps_1',
      amount: { minor: '250', currency: 'EUR' },
      reason: 'damaged',
    });
    assert.equal(seen[0]!.body, seen[1]!.body, 'a retry sends the very same body');
    const refused = await adapter.createRefund({
      sessionId: 'ps_1',
      refundId: 'ref_ours2',
      amount: EUR(1n),
      reason: 'too much',
    });
    assert.deepEqual([refused.status, refused.reason], ['failed', 'refund.exceeds_captured']);
  });
});

for (const engine of testEngines()) {
  describe(`refund news through the gateway-event path on ${engine}`, () => {
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      await ensureDemoData(database, clock.now());
    });
    after(async () => {
      await database.close();
    });

    it('applies payment.partially_refunded and payment.refunded once each, then the invoice, order and attempt are refunded', async () => {
      const customerId = (await database.db.select().from(users).where(eq(users.email, 'customer@shop.test')))[0]!.id;
      const staffId = (await database.db.select().from(users).where(eq(users.email, 'staff@shop.test')))[0]!.id;
      const [product] = await listProducts(database.db);
      await addToCart(database.db, customerId, product!.id, 1, clock.now());
      await chooseCartDelivery(database.db, customerId, (await listDeliveryMethods(database.db))[0]!.id, clock.now());
      await saveCartAddress(
        database.db,
        customerId,
        { fullName: 'Ada', line1: '1 St', line2: '', postalCode: '10115', city: 'Berlin', country: 'DE' },
        clock.now(),
      );
      const order = await placeOrder(database.db, customerId, clock.now());
      const invoice = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      await database.transaction(async (tx) => {
        await tx.insert(paymentAttempts).values({
          id: 'att_refundnews1',
          invoiceId: invoice.id,
          status: 'captured',
          gatewaySessionId: 'ps_news1',
          lastSequence: 4,
          createdAt: clock.now(),
          updatedAt: clock.now(),
        });
        await applyInvoiceEvent(tx, invoice.id, 'pay', 'gateway', clock.now());
      });
      const total = invoice.amountMinor;
      const part = await requestRefund(
        database,
        { invoiceId: invoice.id, amount: EUR(100n), reason: 'scratched', staffId, approvalThresholdMinor: total },
        clock,
      );
      await executeRefund(
        { database, clock, gateway: { createRefund: async () => ({ refundId: 'ref_gwA', status: 'pending' }) } },
        part.id,
        1,
      );
      const rest = await requestRefund(
        database,
        {
          invoiceId: invoice.id,
          amount: EUR(total - 100n),
          reason: 'returned',
          staffId,
          approvalThresholdMinor: total,
        },
        clock,
      );

      const wire = (
        id: string,
        status: string,
        sequence: number,
        refund: { id: string; amount: bigint; total: bigint },
      ) => ({
        id,
        type: `payment.${status}`,
        created_at: clock.now().toISOString(),
        data: {
          session_id: 'ps_news1',
          merchant_reference: invoice.id,
          amount: toJSON(EUR(total)),
          status,
          sequence,
          refund: { id: refund.id, amount: toJSON(EUR(refund.amount)), refunded_total: toJSON(EUR(refund.total)) },
        },
      });
      const partial = parseGatewayEvent(
        wire('evt_partial', 'partially_refunded', 5, { id: 'ref_gwA', amount: 100n, total: 100n }),
        'webhook',
      );
      assert.equal(httpAnswer(await applyGatewayEvent(database, partial, clock, { receipt: true })).status, 200);
      assert.equal((await database.db.select().from(refunds).where(eq(refunds.id, part.id)))[0]!.status, 'succeeded');
      assert.equal((await database.db.select().from(invoices).where(eq(invoices.id, invoice.id)))[0]!.status, 'paid');
      const dup = await applyGatewayEvent(database, partial, clock, { receipt: true });
      assert.equal(dup.verdict, 'duplicate');
      assert.equal(
        (await notificationsFor(database.db, customerId, order.id)).length,
        1,
        'a duplicate notifies nobody again',
      );

      // The full refund's news arrives before the job got the gateway's answer: the refund is adopted.
      const full = parseGatewayEvent(
        wire('evt_full', 'refunded', 6, { id: 'ref_gwB', amount: total - 100n, total }),
        'webhook',
      );
      let fullOutcome: Awaited<ReturnType<typeof applyGatewayEvent>> | undefined;
      await executeRefund(
        {
          database,
          clock,
          gateway: {
            createRefund: async () => {
              fullOutcome = await applyGatewayEvent(database, full, clock, { receipt: true });
              return { refundId: 'ref_gwB', status: 'pending' };
            },
          },
        },
        rest.id,
        1,
      );
      assert.equal(fullOutcome?.verdict, 'accepted');
      const restRow = (await database.db.select().from(refunds).where(eq(refunds.id, rest.id)))[0]!;
      assert.deepEqual([restRow.status, restRow.gatewayRefundId], ['succeeded', 'ref_gwB']);
      assert.equal(
        (await database.db.select().from(invoices).where(eq(invoices.id, invoice.id)))[0]!.status,
        'refunded',
      );
      assert.equal((await database.db.select().from(orders).where(eq(orders.id, order.id)))[0]!.status, 'refunded');
      assert.equal(
        (await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.id, 'att_refundnews1')))[0]!.status,
        'refunded',
      );
      assert.equal((await notificationsFor(database.db, customerId, order.id)).length, 2);
    });
  });
}
