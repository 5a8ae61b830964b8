// The shop's storage against real databases (PGlite and PostgreSQL): accounts and sessions, the login
// limit's counter, the catalog, carts turned into orders with frozen lines, invoices reused, voided
// and reissued, the order following its invoice with an outbox event and job, and the audit chain.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { isDomainError } from '../src/core/errors.ts';
import { money } from '../src/core/money.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { jobs } from '../src/platform/jobs/jobs.schema.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { limitKeys } from '../src/shop/domain/login-limit.ts';
import * as accounts from '../src/shop/storage/accounts.ts';
import { blockedNow, reserveLoginAttempt, takeBack } from '../src/shop/storage/login-attempts.ts';
import { verifyAuditChain } from '../src/shop/storage/audit.ts';
import { sealAll } from '../src/shop/audit/sealer.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../src/shop/storage/cart.ts';
import {
  archiveProduct,
  changeProductPrice,
  createProduct,
  listDeliveryMethods,
  listProducts,
} from '../src/shop/storage/catalog.ts';
import { DEMO_ACCOUNTS, ensureDemoData } from '../src/shop/storage/demo-data.ts';
import { ORDER_STATUS_TASK } from '../src/shop/storage/order-status-outbox.ts';
import { applyInvoiceEvent } from '../src/shop/commands/invoice-transition.ts';
import { changeOrderDelivery } from '../src/shop/commands/change-order-delivery.ts';
import { invoiceForPayment } from '../src/shop/commands/invoice-for-payment.ts';
import { orderDetail } from '../src/shop/storage/orders.ts';
import { placeOrder } from '../src/shop/commands/place-order.ts';
import {
  addresses,
  auditLog,
  carts,
  deliveryMethods,
  invoices,
  orderLines,
  orderStatusEvents,
  products,
  users,
} from '../src/shop/storage/tables.ts';
import { address as factoryAddress } from './support/factories.ts';

const address = factoryAddress({ country: 'DE' });

for (const engine of testEngines()) {
  describe(`shop storage on ${engine}`, () => {
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    let customerId: string;

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      await ensureDemoData(database, clock.now());
      customerId = (await database.db.select().from(users).where(eq(users.email, 'customer@shop.test')))[0]!.id;
    });
    after(async () => {
      await database.close();
    });

    async function checkout(userId: string, items: Array<[string, number]>, deliveryIndex = 1) {
      for (const [productId, q] of items) await addToCart(database.db, userId, productId, q, clock.now());
      const methods = await listDeliveryMethods(database.db);
      await chooseCartDelivery(database.db, userId, methods[deliveryIndex]!.id, clock.now());
      await saveCartAddress(database.db, userId, address, clock.now());
      return placeOrder(database.db, userId, clock.now());
    }

    it('creates the demo accounts, six EUR products and three delivery methods once, however often it runs', async () => {
      await ensureDemoData(database, clock.now());
      await ensureDemoData(database, clock.now());
      const emails = (await database.db.select({ email: users.email, role: users.role }).from(users))
        .map((u) => `${u.email}:${u.role}`)
        .sort();
      assert.deepEqual(emails, [
        'customer@shop.test:customer',
        'manager@shop.test:staff',
        'other@shop.test:customer',
        'staff@shop.test:staff',
      ]);
      const catalog = await listProducts(database.db);
      assert.equal(catalog.length, 6);
      assert.ok(catalog.every((p) => p.price.currency === 'EUR' && p.price.minor > 0n));
      assert.equal((await listDeliveryMethods(database.db)).length, 3);
      for (const a of DEMO_ACCOUNTS)
        assert.ok(await accounts.checkCredentials(database.db, a.email, a.password), a.email);
    });

    it('refuses a second account with the same email in another case, and a wrong password', async () => {
      await assert.rejects(
        accounts.createUser(
          database.db,
          { email: ' Customer@Shop.TEST ', name: 'X', password: 'whatever-long' },
          clock.now(),
        ),
        (e) => isDomainError(e, 'auth.email_taken'),
      );
      assert.equal(await accounts.checkCredentials(database.db, 'customer@shop.test', 'wrong-password'), null);
      assert.equal(await accounts.checkCredentials(database.db, 'nobody@shop.test', 'demo-customer-password'), null);
      const [row] = await database.db.select().from(users).where(eq(users.email, 'customer@shop.test'));
      assert.match(row!.passwordHash, /^scrypt\$/);
      assert.ok(!row!.passwordHash.includes('demo-customer-password'));
    });

    it('finds a session by its token until it expires or is deleted, storing only a hash', async () => {
      const token = await accounts.createLoginSession(database.db, customerId, clock.now(), 60);
      assert.equal((await accounts.userForSession(database.db, token, clock.now()))?.id, customerId);
      const stored = await database.db.execute(sql`select token_hash from login_sessions`);
      assert.ok(!JSON.stringify(stored).includes(token));
      assert.equal(
        await accounts.userForSession(database.db, token, new Date(clock.now().getTime() + 61_000)),
        undefined,
      );
      await accounts.deleteLoginSession(database.db, token);
      assert.equal(await accounts.userForSession(database.db, token, clock.now()), undefined);
    });

    it('reserves login attempts per account and per address, refuses past either limit, and forgives on success', async () => {
      const limits = { maxFailuresPerAccount: 3, maxFailuresPerAddress: 4, windowSeconds: 900 };
      const now = clock.now();
      const reserve = (email: string, ip: string, at = now) =>
        reserveLoginAttempt(database, limitKeys(email, ip, limits), at, limits.windowSeconds);
      for (let i = 0; i < 3; i++) assert.equal((await reserve('a@shop.test', '10.0.0.1')).ok, true);
      assert.deepEqual(
        await reserve('A@shop.test ', '10.0.0.2'),
        { ok: false, blocked: 'account' },
        'the account, whatever the address or case',
      );
      assert.equal((await reserve('b@shop.test', '10.0.0.1')).ok, true, 'another account from the same address');
      assert.deepEqual(
        await reserve('c@shop.test', '10.0.0.1'),
        { ok: false, blocked: 'address' },
        'the fifth failure from one address',
      );
      assert.deepEqual(
        await reserve('c@shop.test', '::ffff:10.0.0.1'),
        { ok: false, blocked: 'address' },
        'IPv4-mapped is the same address',
      );
      assert.deepEqual(await blockedNow(database.db, now, limits), { accounts: 1, addresses: 1 });
      const later = new Date(now.getTime() + 901_000);
      const again = await reserve('a@shop.test', '10.0.0.1', later);
      assert.ok(again.ok, 'the window passes');
      await takeBack(database.db, again);
      assert.deepEqual(await blockedNow(database.db, later, limits), { accounts: 0, addresses: 0 });
      // A right password forgives the account's earlier failures, not a guess reserved after it (still in flight).
      assert.ok((await reserve('d@shop.test', '10.2.0.1', later)).ok);
      const mine = await reserve('d@shop.test', '10.2.0.2', later);
      assert.ok(mine.ok && (await reserve('d@shop.test', '10.2.0.3', later)).ok);
      await takeBack(database.db, mine);
      for (let i = 0; i < 2; i++) assert.equal((await reserve('d@shop.test', `10.2.1.${i}`, later)).ok, true);
      assert.deepEqual(await reserve('d@shop.test', '10.2.2.0', later), { ok: false, blocked: 'account' });
      const stored = JSON.stringify(await database.db.execute(sql`select key_hash from login_failures`));
      assert.ok(!stored.includes('shop.test') && !stored.includes('10.0.0'), 'keys are stored hashed');
    });

    it('lets no more simultaneous reservations through than the limit', async () => {
      const limits = { maxFailuresPerAccount: 5, maxFailuresPerAddress: 1000, windowSeconds: 900 };
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          reserveLoginAttempt(database, limitKeys('race@shop.test', `10.1.0.${i}`, limits), clock.now(), 900),
        ),
      );
      assert.equal(results.filter((r) => r.ok).length, 5);
    });

    it('freezes lines at the price of the moment; a later price change or archive leaves the order as it was', async () => {
      const product = await createProduct(
        database.db,
        { name: 'Frozen thing', description: 'd', price: money(1000n, 'EUR') },
        'staff',
        clock.now(),
      );
      const order = await checkout(customerId, [[product.id, 2]]);
      await changeProductPrice(database.db, product.id, money(5000n, 'EUR'), 'staff', clock.now());
      await archiveProduct(database.db, product.id, 'staff', clock.now());
      const detail = await orderDetail(database.db, order.id);
      assert.deepEqual(
        detail!.lines.map((l) => [l.name, l.unitPriceMinor, l.quantity, l.lineTotalMinor]),
        [['Frozen thing', 1000n, 2, 2000n]],
      );
      assert.equal(detail!.order.subtotalMinor, 2000n);
      assert.equal(detail!.order.totalMinor, 2000n + detail!.order.deliveryMinor);
      assert.ok(
        !(await listProducts(database.db)).some((p) => p.id === product.id),
        'archived product left the catalog',
      );
      await assert.rejects(addToCart(database.db, customerId, product.id, 1, clock.now()), (e) =>
        isDomainError(e, 'product.unavailable'),
      );
    });

    it('refuses to order an empty cart or one without delivery and address', async () => {
      await assert.rejects(placeOrder(database.db, customerId, clock.now()), (e) => isDomainError(e, 'cart.empty'));
      const [p] = await listProducts(database.db);
      await addToCart(database.db, customerId, p!.id, 1, clock.now());
      await assert.rejects(placeOrder(database.db, customerId, clock.now()), (e) =>
        isDomainError(e, 'checkout.incomplete'),
      );
    });

    it('delivery and address steps: set on the open cart, or on a cart they open; an unknown or inactive method changes nothing', async () => {
      const [shopper] = await database.db
        .insert(users)
        .values({
          id: `usr_steps${engine}`,
          email: `steps-${engine}@shop.test`,
          name: 'Steps',
          passwordHash: 'x',
          role: 'customer',
          createdAt: clock.now(),
        })
        .returning();
      const id = shopper!.id;
      const openCart = async () =>
        (
          await database.db
            .select()
            .from(carts)
            .where(and(eq(carts.userId, id), eq(carts.status, 'open')))
        )[0];
      const book = async () => database.db.select().from(addresses).where(eq(addresses.userId, id));
      const [first, second] = await listDeliveryMethods(database.db);
      // No cart yet: each step opens one (one open cart, ever), and the address is in the book.
      await saveCartAddress(database.db, id, address, clock.now());
      const saved = await book();
      assert.equal(saved.length, 1);
      assert.equal((await openCart())?.addressId, saved[0]!.id);
      await chooseCartDelivery(database.db, id, first!.id, clock.now());
      assert.equal((await openCart())?.deliveryMethodId, first!.id);
      // With the cart: a second address is saved and selected; the method changes.
      await saveCartAddress(database.db, id, { ...address, line1: 'Zweite Straße 2' }, clock.now());
      const both = await book();
      assert.equal(both.length, 2);
      const chosen = both.find((a) => a.line1 === 'Zweite Straße 2')!;
      assert.equal((await openCart())?.addressId, chosen.id);
      await chooseCartDelivery(database.db, id, second!.id, clock.now());
      assert.equal((await openCart())?.deliveryMethodId, second!.id);
      // Unknown or inactive: refused, and the cart keeps its method.
      await assert.rejects(chooseCartDelivery(database.db, id, 'dlv_nope', clock.now()), (e) =>
        isDomainError(e, 'checkout.incomplete'),
      );
      await database.db.update(deliveryMethods).set({ active: false }).where(eq(deliveryMethods.id, first!.id));
      try {
        await assert.rejects(chooseCartDelivery(database.db, id, first!.id, clock.now()), (e) =>
          isDomainError(e, 'checkout.incomplete'),
        );
      } finally {
        await database.db.update(deliveryMethods).set({ active: true }).where(eq(deliveryMethods.id, first!.id));
      }
      assert.equal((await openCart())?.deliveryMethodId, second!.id);
      assert.equal(
        (await database.db.select().from(carts).where(eq(carts.userId, id))).length,
        1,
        'one cart for all the steps',
      );
    });

    it('reuses the valid invoice on a repeated "Pay now", expires it after its time and issues a new one', async () => {
      const [p] = await listProducts(database.db);
      const order = await checkout(customerId, [[p!.id, 1]]);
      const first = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      const again = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      assert.equal(again.id, first.id);
      assert.equal(first.amountMinor, order.totalMinor);
      assert.equal(first.userId, customerId);
      assert.equal(first.expiresAt.getTime() - first.createdAt.getTime(), 1800_000);
      const later = new Date(clock.now().getTime() + 1800_000);
      const fresh = await invoiceForPayment(database.db, order.id, customerId, later, 1800);
      assert.notEqual(fresh.id, first.id);
      const [old] = await database.db.select().from(invoices).where(eq(invoices.id, first.id));
      assert.deepEqual([old!.status, old!.valid], ['expired', false]);
    });

    it('voids the open invoice when the unpaid order changes and issues a new one for the new total', async () => {
      const [p] = await listProducts(database.db);
      const order = await checkout(customerId, [[p!.id, 1]], 0);
      const first = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      const methods = await listDeliveryMethods(database.db);
      const { order: revised, invoice } = await changeOrderDelivery(
        database.db,
        order.id,
        customerId,
        methods[2]!.id,
        clock.now(),
        1800,
      );
      assert.equal(revised.totalMinor, order.subtotalMinor + methods[2]!.price.minor);
      assert.equal(invoice!.amountMinor, revised.totalMinor);
      const [old] = await database.db.select().from(invoices).where(eq(invoices.id, first.id));
      assert.deepEqual(
        [old!.status, old!.valid, old!.amountMinor],
        ['voided', false, order.totalMinor],
        'the old invoice is voided, its amount untouched',
      );
      const open = await database.db.select().from(invoices).where(sql`order_id = ${order.id} and status = 'open'`);
      assert.equal(open.length, 1);
    });

    it("refuses to pay or change another customer's order", async () => {
      const [p] = await listProducts(database.db);
      const order = await checkout(customerId, [[p!.id, 1]]);
      const other = (await database.db.select().from(users).where(eq(users.email, 'other@shop.test')))[0]!;
      await assert.rejects(invoiceForPayment(database.db, order.id, other.id, clock.now(), 1800), (e) =>
        isDomainError(e, 'access.denied'),
      );
      const methods = await listDeliveryMethods(database.db);
      await assert.rejects(
        changeOrderDelivery(database.db, order.id, other.id, methods[0]!.id, clock.now(), 1800),
        (e) => isDomainError(e, 'access.denied'),
      );
    });

    it('moves the order to paid when its invoice is paid, with an outbox event and a delivery job in the same transaction', async () => {
      const [p] = await listProducts(database.db);
      const order = await checkout(customerId, [[p!.id, 3]]);
      const invoice = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      const { order: paid } = await database.transaction((tx) =>
        applyInvoiceEvent(tx, invoice.id, 'pay', 'test', clock.now()),
      );
      assert.equal(paid.status, 'paid');
      const events = await database.db
        .select()
        .from(orderStatusEvents)
        .where(eq(orderStatusEvents.orderId, order.id))
        .orderBy(orderStatusEvents.seq);
      assert.deepEqual(
        events.map((e) => [e.fromStatus, e.toStatus]),
        [
          [null, 'awaiting_payment'],
          ['awaiting_payment', 'paid'],
        ],
      );
      const queued = await database.db.select().from(jobs).where(eq(jobs.task, ORDER_STATUS_TASK));
      for (const e of events)
        assert.ok(
          queued.some((j) => (j.payload as { eventId: string }).eventId === e.id),
          `job for ${e.id}`,
        );
      await assert.rejects(invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800), (e) =>
        isDomainError(e, 'order.not_payable'),
      );
      await assert.rejects(
        database.transaction((tx) => applyInvoiceEvent(tx, invoice.id, 'pay', 'test', clock.now())),
        (e) => isDomainError(e, 'state.illegal_transition'),
      );
    });

    it('rolls back the invoice change, the event and the job together when the transaction fails', async () => {
      const [p] = await listProducts(database.db);
      const order = await checkout(customerId, [[p!.id, 1]]);
      const invoice = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      const eventsBefore = (await database.db.select().from(orderStatusEvents)).length;
      await assert.rejects(
        database.transaction(async (tx) => {
          await applyInvoiceEvent(tx, invoice.id, 'pay', 'test', clock.now());
          throw new Error('crash after the effect');
        }),
      );
      const [still] = await database.db.select().from(invoices).where(eq(invoices.id, invoice.id));
      assert.equal(still!.status, 'open');
      assert.equal((await database.db.select().from(orderStatusEvents)).length, eventsBefore);
    });

    it('keeps an intact hash chain in the audit log and detects an edited entry', async () => {
      assert.ok((await sealAll(database)) > 10, "the shop's sealer chains the committed entries");
      assert.equal(await verifyAuditChain(database.db), null);
      const entries = await database.db.select().from(auditLog).orderBy(auditLog.chainPos);
      assert.ok(entries.length > 10);
      const victim = entries[3]!;
      // The database refuses the edit outright; with the trigger off (an attacker with DDL rights),
      // the chain still shows where history was rewritten.
      await assert.rejects(
        database.db.update(auditLog).set({ action: 'tampered' }).where(eq(auditLog.seq, victim.seq)),
      );
      await assert.rejects(database.db.delete(auditLog).where(eq(auditLog.seq, victim.seq)));
      await database.db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
      try {
        await database.db.update(auditLog).set({ action: 'tampered' }).where(eq(auditLog.seq, victim.seq));
        assert.equal(await verifyAuditChain(database.db), victim.chainPos);
        await database.db.update(auditLog).set({ action: victim.action }).where(eq(auditLog.seq, victim.seq));
      } finally {
        await database.db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
      }
      assert.equal(await verifyAuditChain(database.db), null);
    });

    it("refuses in the database to change an invoice's terms, delete an invoice or a product, or edit an order line", async () => {
      const [p] = await listProducts(database.db);
      const order = await checkout(customerId, [[p!.id, 1]]);
      const invoice = await invoiceForPayment(database.db, order.id, customerId, clock.now(), 1800);
      const refused = (pattern: RegExp) => (e: unknown) =>
        pattern.test(`${(e as Error).message} ${((e as { cause?: Error }).cause)?.message ?? ''}`);
      const otherId = (await database.db.select().from(users).where(eq(users.email, 'other@shop.test')))[0]!.id;
      await assert.rejects(
        database.db.update(invoices).set({ amountMinor: 1n }).where(eq(invoices.id, invoice.id)),
        refused(/immutable/),
      );
      await assert.rejects(
        database.db.update(invoices).set({ userId: otherId }).where(eq(invoices.id, invoice.id)),
        refused(/immutable/),
      );
      await assert.rejects(
        database.db
          .update(invoices)
          .set({ expiresAt: new Date(Date.UTC(2030, 0, 1)) })
          .where(eq(invoices.id, invoice.id)),
        refused(/immutable/),
      );
      await assert.rejects(database.db.delete(invoices).where(eq(invoices.id, invoice.id)), refused(/never deleted/));
      await assert.rejects(
        database.db.update(orderLines).set({ unitPriceMinor: 1n }).where(eq(orderLines.orderId, order.id)),
        refused(/frozen/),
      );
      const unused = await createProduct(
        database.db,
        { name: 'Unsold', description: '', price: money(100n, 'EUR') },
        'staff',
        clock.now(),
      );
      await assert.rejects(database.db.delete(products).where(eq(products.id, unused.id)), refused(/never deleted/));
      const [still] = await database.db.select().from(invoices).where(eq(invoices.id, invoice.id));
      assert.equal(still!.amountMinor, order.totalMinor);
    });
  });
}
