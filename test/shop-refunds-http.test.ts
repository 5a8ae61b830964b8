// The staff console's refunds and per-order payment view over HTTP (app.request) on both engines:
// staff only (customers get "Access denied", anonymous visitors the login), CSRF required, a reason
// required, never more than captured (also 20 concurrent POSTs), a second staff member approves a
// large refund, and the order page shows attempts, webhooks with verdicts, refunds, the audit trail;
// the customer sees the refund notification on their order page; /staff/refunds shows the findings.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { webhookReceipts } from '../src/shop/storage/tables.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { executeRefund } from '../src/shop/commands/execute-refund.ts';
import { refunds } from '../src/shop/storage/tables.ts';
import { createUser } from '../src/shop/storage/accounts.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../src/shop/storage/cart.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { applyInvoiceEvent } from '../src/shop/commands/invoice-transition.ts';
import { invoiceForPayment } from '../src/shop/commands/invoice-for-payment.ts';
import { placeOrder } from '../src/shop/commands/place-order.ts';
import { type InvoiceRow } from '../src/shop/storage/orders.ts';
import { paymentAttempts, users } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO } from './support/factories.ts';

const SECRET = 'refund-http-test-secret-'.padEnd(48, 'x');

for (const engine of testEngines()) {
  describe(`staff refunds over HTTP (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
    let staff: ShopClient;
    let staff2: ShopClient;
    let customer: ShopClient;
    let customerId: string;
    let n = 0;

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_TRUST_PROXY: 'true',
      });
      shop = await startShop(config, { database, clock, gateway: new FakeGateway(), jobs: false });
      await createUser(
        database.db,
        { email: 'approver@shop.test', name: 'Approver', password: 'approver-password', role: 'staff' },
        clock.now(),
      );
      customerId = (await database.db.select().from(users).where(eq(users.email, 'customer@shop.test')))[0]!.id;
      staff = new ShopClient(app, '198.51.100.21');
      staff2 = new ShopClient(app, '198.51.100.22');
      customer = new ShopClient(app, '198.51.100.23');
      assert.equal((await staff.login(...DEMO.staff)).status, 303);
      assert.equal((await staff2.login('approver@shop.test', 'approver-password')).status, 303);
      assert.equal((await customer.login(...DEMO.customer)).status, 303);
    });
    after(async () => {
      await shop?.stop();
    });

    async function paidInvoice(quantity: number): Promise<InvoiceRow> {
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
      await database.transaction(async (tx) => {
        await tx.insert(paymentAttempts).values({
          id: `att_h${++n}`,
          invoiceId: invoice.id,
          status: 'captured',
          gatewaySessionId: `ps_h${n}`,
          createdAt: clock.now(),
          updatedAt: clock.now(),
        });
        await tx.insert(webhookReceipts).values({
          receivedAt: clock.now(),
          eventId: `evt_h${n}`,
          eventType: 'authorized',
          sessionId: `ps_h${n}`,
          invoiceId: invoice.id,
          verdict: 'accepted',
        });
        await tx.insert(webhookReceipts).values({
          receivedAt: clock.now(),
          eventId: `evt_forged${n}`,
          eventType: null,
          sessionId: null,
          invoiceId: invoice.id,
          verdict: 'rejected',
          reason: 'webhook.signature_invalid',
        });
        await applyInvoiceEvent(tx, invoice.id, 'pay', 'gateway', clock.now());
      });
      return invoice;
    }

    const refundForm = (inv: InvoiceRow, amount: string, reason = 'damaged in transit') => ({
      form: { invoiceId: inv.id, amount, reason },
    });

    it('shows staff the order with attempts, webhooks and verdicts, the refund form and the audit trail; customers and visitors are kept out', async () => {
      const inv = await paidInvoice(1);
      const page = await staff.send(`/staff/orders/${inv.orderId}`);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /data-testid="staff-order-attempt"[^]*ps_h\d+[^]*captured/);
      assert.match(html, /data-testid="staff-order-webhook"[^]*evt_h\d+[^]*accepted/);
      assert.match(html, /webhook\.signature_invalid/);
      assert.match(html, /data-testid="staff-order-audit"[^]*invoice\.pay/);
      assert.match(html, /action="\/staff\/orders\/ord_[^"]+\/refunds"/);
      assert.equal((await customer.send(`/staff/orders/${inv.orderId}`)).status, 404);
      const anon = await new ShopClient(app, '198.51.100.24').send(`/staff/orders/${inv.orderId}`);
      assert.equal(anon.status, 302);
      assert.match(anon.headers.get('location') ?? '', /^\/login/);
      assert.equal((await staff.send('/staff/orders/ord_doesnotexist')).status, 404);
    });

    it('refunds part with a reason, refuses without one, above what was captured, without CSRF or from a customer; notifies the customer on success', async () => {
      const inv = await paidInvoice(1);
      assert.equal(
        (await staff.send(`/staff/orders/${inv.orderId}/refunds`, refundForm(inv, '1.00', ' '))).status,
        422,
      );
      assert.equal((await staff.send(`/staff/orders/${inv.orderId}/refunds`, refundForm(inv, 'abc'))).status, 422);
      const tooMuch = await staff.send(
        `/staff/orders/${inv.orderId}/refunds`,
        refundForm(inv, `${Number(inv.amountMinor) / 100 + 0.01}`),
      );
      assert.equal(tooMuch.status, 409);
      assert.match(await tooMuch.text(), /exceed the captured amount/);
      assert.equal(
        (await staff.send(`/staff/orders/${inv.orderId}/refunds`, { ...refundForm(inv, '1.00'), csrf: false })).status,
        403,
      );
      assert.equal((await customer.send(`/staff/orders/${inv.orderId}/refunds`, refundForm(inv, '1.00'))).status, 404);
      assert.equal((await database.db.select().from(refunds).where(eq(refunds.invoiceId, inv.id))).length, 0);

      const ok = await staff.send(`/staff/orders/${inv.orderId}/refunds`, refundForm(inv, '1.50'));
      assert.equal(ok.status, 303);
      const [row] = await database.db.select().from(refunds).where(eq(refunds.invoiceId, inv.id));
      assert.deepEqual([row!.status, row!.amountMinor, row!.reason], ['pending', 150n, 'damaged in transit']);
      await executeRefund(
        { database, clock, gateway: { createRefund: async () => ({ refundId: 'ref_gwhttp', status: 'succeeded' }) } },
        row!.id,
        1,
      );
      const mine = await (await customer.send(`/orders/${inv.orderId}`)).text();
      assert.match(mine, /data-testid="order-notification">€1\.50 has been refunded/);
      const staffView = await (await staff.send(`/staff/orders/${inv.orderId}`)).text();
      assert.match(staffView, /refund\.succeed/);
    });

    it('needs a second, different staff member to approve a refund above the threshold', async () => {
      const inv = await paidInvoice(30);
      assert.equal(
        (await staff.send(`/staff/orders/${inv.orderId}/refunds`, refundForm(inv, '100.01', 'big goodwill'))).status,
        303,
      );
      const [row] = await database.db.select().from(refunds).where(eq(refunds.invoiceId, inv.id));
      assert.equal(row!.status, 'awaiting_approval');
      const list = await (await staff2.send('/staff/refunds')).text();
      assert.match(list, new RegExp(`data-refund="${row!.id}"[^]*action="/staff/refunds/${row!.id}/approve"`));
      assert.equal(
        (await staff.send(`/staff/refunds/${row!.id}/approve`, { form: {} })).status,
        409,
        'the requester cannot approve',
      );
      assert.equal((await customer.send(`/staff/refunds/${row!.id}/approve`, { form: {} })).status, 404);
      assert.equal((await staff2.send(`/staff/refunds/${row!.id}/approve`, { form: {} })).status, 303);
      const [after] = await database.db.select().from(refunds).where(eq(refunds.id, row!.id));
      assert.equal(after!.status, 'pending');
      assert.equal(
        (await staff2.send(`/staff/refunds/${row!.id}/reject`, { form: {} })).status,
        409,
        'no longer awaiting approval',
      );
    });

    it('lets exactly the allowed ones of 20 concurrent refund POSTs through', async () => {
      const inv = await paidInvoice(2);
      const each = Math.floor(Number(inv.amountMinor) / 5) + 1; // 4 fit
      const csrf = await staff.csrf();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          staff.send(`/staff/orders/${inv.orderId}/refunds`, {
            ...refundForm(inv, (each / 100).toFixed(2), `concurrent ${i}`),
            csrf,
          }),
        ),
      );
      assert.equal(answers.filter((r) => r.status === 303).length, Math.floor(Number(inv.amountMinor) / each));
      assert.ok(
        answers.every((r) => r.status === 303 || r.status === 409),
        answers.map((r) => r.status).join(','),
      );
      const rows = await database.db.select().from(refunds).where(eq(refunds.invoiceId, inv.id));
      assert.ok(rows.reduce((s, r) => s + r.amountMinor, 0n) <= inv.amountMinor);
    });

    it('lists reconciliation findings: captured at the gateway but not paid here', async () => {
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
      await database.db.insert(paymentAttempts).values({
        id: 'att_finding1',
        invoiceId: invoice.id,
        status: 'captured',
        gatewaySessionId: 'ps_finding1',
        createdAt: clock.now(),
        updatedAt: clock.now(),
      });
      const html = await (await staff.send('/staff/refunds')).text();
      assert.match(html, /data-testid="staff-finding"><td>paid at the gateway, not here<\/td><td>att_finding1/);
      assert.equal((await customer.send('/staff/refunds')).status, 404);
    });
  });
}
