// One order's whole money story for the staff console's tests, through the shop's real edges: the
// customer checks out and presses "Pay now" (fake gateway), the gateway's signed webhook captures it,
// a signed partial-refund webhook refunds €1.00 made at the gateway, staff refund the rest through the
// order page's form, and the gateway's answer settles it (invoice and order refunded).
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import type { FakeClock } from '../../src/platform/clock.ts';
import type { Database } from '../../src/platform/db/database.ts';
import { signedDelivery, type FakeGateway } from '../../src/shop/adapters/gateway.fake.ts';
import { executeRefund } from '../../src/shop/commands/execute-refund.ts';
import { listDeliveryMethods, listProducts } from '../../src/shop/storage/catalog.ts';
import { refunds } from '../../src/shop/storage/tables.ts';
import { checkoutForm } from './factories.ts';
import type { ShopClient } from './shop-client.ts';
import { refundNews } from './staff-lists.ts';

type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

export interface RefundedOrder {
  readonly orderId: string;
  readonly invoiceId: string;
  readonly totalMinor: bigint;
  readonly partialEventId: string;
  readonly staffRefundId: string;
}

/** Runs the story above and returns the order's ids. */
export async function refundedOrder(deps: {
  app: App;
  database: Database;
  clock: FakeClock;
  gateway: FakeGateway;
  secret: string;
  customer: ShopClient;
  staff: ShopClient;
  /** Called once the partial refund is in (the order still paid). */
  onPartial?: (orderId: string) => Promise<void>;
}): Promise<RefundedOrder> {
  const { app, database, clock, gateway, secret, customer, staff } = deps;
  const deliver = async (event: { id: string }) => {
    const d = signedDelivery(event, [secret], clock.now());
    const res = await app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body });
    assert.equal(res.status, 200, `delivery of ${event.id}`);
  };
  await customer.emptyCart();
  const [product] = await listProducts(database.db);
  const [delivery] = await listDeliveryMethods(database.db);
  const cartId = await checkoutForm(customer, {
    lines: [{ productId: product!.id, quantity: 2 }],
    deliveryMethodId: delivery!.id,
  });
  const pay = await customer.send('/checkout/pay', { form: { cartId } });
  const sessionId = /\/pay\/(ps_\w+)$/.exec(pay.headers.get('location') ?? '')?.[1];
  assert.ok(sessionId, 'redirected to the hosted page');
  const session = gateway.sessions.get(sessionId)!;
  const total = session.request.amount.minor;
  const invoiceId = session.request.invoiceId;
  const orderId = /href="\/staff\/orders\/(ord_\w+)"/.exec(
    await (await staff.send(`/staff/invoices?q=${invoiceId}`)).text(),
  )?.[1];
  assert.ok(orderId, 'the invoice found on the staff list');
  await deliver(gateway.move(sessionId, 'captured'));
  clock.advance(60_000);
  const partial = refundNews(session, { id: 'rf_gw_partial', minor: 100n, refundedTotalMinor: 100n });
  await deliver(partial);
  await deps.onPartial?.(orderId);
  clock.advance(60_000);
  const rest = total - 100n;
  const form = {
    invoiceId,
    amount: `${rest / 100n}.${String(rest % 100n).padStart(2, '0')}`,
    reason: 'customer returned both',
    customerReason: 'other',
  };
  assert.equal((await staff.send(`/staff/orders/${orderId}/refunds`, { form })).status, 303);
  const staffRefund = (await database.db.select().from(refunds).where(eq(refunds.invoiceId, invoiceId))).find(
    (r) => r.requestedBy !== 'gateway',
  );
  assert.ok(staffRefund, 'the staff refund recorded');
  clock.advance(60_000);
  await executeRefund(
    { database, clock, gateway: { createRefund: async () => ({ refundId: 'rf_gw_rest', status: 'succeeded' }) } },
    staffRefund.id,
    1,
  );
  return { orderId, invoiceId, totalMinor: total, partialEventId: partial.id, staffRefundId: staffRefund.id };
}
