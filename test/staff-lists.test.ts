// The staff console's lists over HTTP (app.request) on both engines: every one of 230 orders reachable
// by "Older" links with no duplicate and no gap while new orders keep arriving, and back by "Newer";
// the page size and its cap; one search box by e-mail (any case, part of it), order id and number,
// invoice id and gateway session id, taken literally (`%`, `_`, quotes); status and date filters that
// survive paging; a damaged cursor or an unknown status is a 400 page saying what is allowed; the
// other lists (invoices, accounts, attempts, webhooks, refunds) page and search the same way;
// customers and visitors get nothing of it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { desc, eq } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { applyInvoiceEvent } from '../src/shop/commands/invoice-transition.ts';
import { invoiceForPayment } from '../src/shop/commands/invoice-for-payment.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { createUser } from '../src/shop/storage/accounts.ts';
import { invoices, orders, paymentAttempts, users } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO } from './support/factories.ts';
import { pageLink, placeOrders, rowIds } from './support/staff-lists.ts';

const SECRET = 'staff-lists-test-secret-'.padEnd(48, 'x');

for (const engine of testEngines()) {
  describe(`staff lists over HTTP (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 2, 1, 8));
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
    let staff: ShopClient;
    let customer: ShopClient;
    const userId = async (email: string) =>
      (await database.db.select().from(users).where(eq(users.email, email)))[0]!.id;
    let all: string[] = [];
    let odd: { userId: string; orders: string[] };
    let lateId = '';

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_TRUST_PROXY: 'true',
      });
      shop = await startShop(config, { database, clock, gateway: new FakeGateway(), jobs: false });
      const odder = await createUser(
        database.db,
        { email: 'Under_Score@Shop.test', name: "O'Brien 100%", password: 'odd-customer-password' },
        clock.now(),
      );
      // 230 orders over five days, three at each instant; then two of a customer whose e-mail has an underscore.
      const a = await placeOrders(database, clock, await userId('customer@shop.test'), 120, { stepMs: 3_600_000 });
      const b = await placeOrders(database, clock, await userId('other@shop.test'), 108, { stepMs: 15 * 60_000 });
      odd = { userId: odder.id, orders: await placeOrders(database, clock, odder.id, 2) };
      all = [...a, ...b, ...odd.orders];
      lateId = (
        await createUser(
          database.db,
          { email: 'late@shop.test', name: 'Late Comer', password: 'late-customer-password' },
          clock.now(),
        )
      ).id;
      staff = new ShopClient(app, '198.51.100.31');
      customer = new ShopClient(app, '198.51.100.32');
      assert.equal((await staff.login(...DEMO.staff)).status, 303);
      assert.equal((await customer.login(...DEMO.customer)).status, 303);
    });
    after(async () => {
      await shop?.stop();
    });

    const ordersOn = async (path: string) => {
      const res = await staff.send(path);
      assert.equal(res.status, 200, path);
      const html = await res.text();
      return { html, ids: rowIds(html, 'staff-order', 'order') };
    };

    /** Every order id in one ordered read: newest first, the id breaking ties. */
    const inOneRead = async () =>
      (await database.db.select({ id: orders.id }).from(orders).orderBy(desc(orders.createdAt), desc(orders.id))).map(
        (r) => r.id,
      );

    it('reaches every order by "Older", with no duplicate or gap while new orders arrive, and comes back by "Newer"', async () => {
      assert.equal(all.length, 230);
      const before = await inOneRead();
      const seen: string[] = [];
      const arrived: string[] = [];
      let path: string | undefined = '/staff/orders';
      let lastPage = '';
      let pages = 0;
      while (path) {
        const { html, ids } = await ordersOn(path);
        if (pages === 0) assert.equal(ids.length, 50, 'the default page holds 50');
        seen.push(...ids);
        pages++;
        lastPage = html;
        // Between pages, new orders arrive (newest of all): they must neither repeat nor push anything out.
        clock.advance(1000);
        arrived.push(...(await placeOrders(database, clock, lateId, 2)));
        path = pageLink(html, 'older');
      }
      assert.equal(pages, 5);
      assert.equal(new Set(seen).size, seen.length, 'no order shown twice');
      assert.deepEqual(
        [...seen].sort(),
        [...all].sort(),
        'every order that existed was shown, none that arrived later',
      );
      assert.deepEqual(seen, before, 'newest first, orders placed at the same instant in a stable order');

      // From the oldest page back up by "Newer": every page, up to the orders that arrived meanwhile.
      const back = rowIds(lastPage, 'staff-order', 'order');
      let newer = pageLink(lastPage, 'newer');
      while (newer) {
        const { html, ids } = await ordersOn(newer);
        back.unshift(...ids);
        newer = pageLink(html, 'newer');
      }
      assert.equal(arrived.length, 10);
      assert.deepEqual(back, await inOneRead(), '"Newer" walks back to the newest, the new orders included');
    });

    /** A well-formed cursor (as a page link would carry one). */
    const someCursor = () =>
      Buffer.from(JSON.stringify({ t: new Date(Date.UTC(2026, 2, 2)).toISOString(), i: all[0] })).toString('base64url');

    it('takes a page size up to 200 and refuses a damaged cursor, an unknown status and a bad date with a 400 page', async () => {
      assert.equal((await ordersOn('/staff/orders?limit=7')).ids.length, 7);
      assert.equal((await ordersOn('/staff/orders?limit=5000')).ids.length, 200, 'capped at 200');
      const bad = [
        ['/staff/orders?limit=abc', /limit must be a whole number/],
        ['/staff/orders?limit=0', /limit must be a whole number/],
        ['/staff/orders?before=not-a-cursor!', /damaged or was changed/],
        ['/staff/orders?before=' + Buffer.from('{"t":"yesterday","i":"x"}').toString('base64url'), /damaged/],
        ['/staff/orders?after=' + Buffer.from('[1,2]').toString('base64url'), /damaged/],
        ['/staff/orders?before=eyJ0Ijo&after=eyJ0Ijo', /not both/],
        [
          '/staff/orders?status=shipped',
          /Unknown status &quot;shipped&quot;\. Allowed: awaiting_payment, paid, cancelled, refunded/,
        ],
        ['/staff/invoices?status=%27%20or%201=1', /Allowed: open, paid, expired/],
        ['/staff/orders?from=2026-13-01', /YYYY-MM-DD/],
        ['/staff/orders?from=2026-03-05&to=2026-03-01', /after the &quot;to&quot; date/],
      ] as const;
      for (const [path, message] of bad) {
        const res = await staff.send(path);
        assert.equal(res.status, 400, path);
        assert.match(await res.text(), message, path);
      }
    });

    it('finds orders by e-mail in any case or part of it, order id or number, invoice id and gateway session id', async () => {
      const other = await ordersOn('/staff/orders?q=OTHER%40SHOP.TEST&limit=200');
      assert.equal(other.ids.length, 108);
      assert.equal((await ordersOn('/staff/orders?q=other%40&limit=200')).ids.length, 108, 'part of the e-mail');
      const target = all[17]!;
      assert.deepEqual((await ordersOn(`/staff/orders?q=${target}`)).ids, [target]);
      const number = /#(\d+)<\/a> <span class="muted id">ord_/.exec(
        (await ordersOn(`/staff/orders?q=${target}`)).html,
      )![1];
      assert.deepEqual((await ordersOn(`/staff/orders?q=%23${number}`)).ids, [target], 'by number with #');
      assert.deepEqual((await ordersOn(`/staff/orders?q=${number}`)).ids, [target], 'by number');
      const customerId = await userId('customer@shop.test');
      const invoice = await invoiceForPayment(database.db, target, customerId, clock.now(), 1800);
      assert.deepEqual((await ordersOn(`/staff/orders?q=${invoice.id}`)).ids, [target], 'by invoice id');
      await database.db.insert(paymentAttempts).values({
        id: 'att_search1',
        invoiceId: invoice.id,
        status: 'session_created',
        gatewaySessionId: 'cs_test_a1B2c3',
        createdAt: clock.now(),
        updatedAt: clock.now(),
      });
      assert.deepEqual((await ordersOn('/staff/orders?q=cs_test_a1B2c3')).ids, [target], 'by session id');
      assert.deepEqual((await ordersOn('/staff/orders?q=cs_test_a1B2c')).ids, [], 'a session id is matched whole');
    });

    it('takes search text literally: %, _ and quotes are characters, not patterns or SQL', async () => {
      assert.deepEqual((await ordersOn('/staff/orders?q=%25')).ids, [], '% matches no e-mail');
      assert.deepEqual(
        (await ordersOn('/staff/orders?q=_&limit=200')).ids.sort(),
        [...odd.orders].sort(),
        '_ matches the one e-mail holding an underscore',
      );
      for (const q of ["'", "' OR '1'='1", "x'; drop table orders; --", '\\', 'under\\_score', '%_%'])
        assert.deepEqual((await ordersOn(`/staff/orders?q=${encodeURIComponent(q)}`)).ids, [], q);
      const accounts = await (await staff.send(`/staff/customers?q=${encodeURIComponent("o'brien 100%")}`)).text();
      assert.deepEqual(rowIds(accounts, 'staff-customer', 'user'), [odd.userId], 'a quote and % in a name');
      assert.equal((await ordersOn('/staff/orders?limit=1')).ids.length, 1, 'the orders are all still there');
    });

    it('filters by status and by UTC day, and keeps search and filters in the "Older" and "Newer" links', async () => {
      const customerId = await userId('customer@shop.test');
      const paid = all.slice(0, 5);
      for (const orderId of paid) {
        const inv = await invoiceForPayment(database.db, orderId, customerId, clock.now(), 1800);
        await database.transaction((tx) => applyInvoiceEvent(tx, inv.id, 'pay', 'gateway', clock.now()));
      }
      const first = await ordersOn('/staff/orders?status=paid&q=customer%40shop.test&limit=2');
      assert.equal(first.ids.length, 2);
      const seen = [...first.ids];
      let older = pageLink(first.html, 'older');
      while (older) {
        assert.match(older, /q=customer%40shop\.test/);
        assert.match(older, /status=paid/);
        assert.match(older, /limit=2/);
        const next = await ordersOn(older);
        assert.ok(pageLink(next.html, 'newer')?.includes('status=paid'), 'Newer keeps the filter');
        seen.push(...next.ids);
        older = pageLink(next.html, 'older');
      }
      assert.deepEqual(seen.sort(), [...paid].sort(), 'exactly the paid ones, across pages');

      // The first customer's 120 orders: 3 an hour from 08:00 UTC on 1 March, so 48 on 1 March.
      const day1 = await ordersOn('/staff/orders?q=customer%40shop.test&from=2026-03-01&to=2026-03-01&limit=200');
      assert.equal(day1.ids.length, 48);
      const day2 = await ordersOn('/staff/orders?q=customer%40shop.test&from=2026-03-02&to=2026-03-02&limit=200');
      assert.equal(day2.ids.length, 72);
      assert.match(day2.html, /From \(UTC day\)/, 'the page says the days are UTC');
      const none = await ordersOn('/staff/orders?from=2030-01-01');
      assert.deepEqual(none.ids, []);
    });

    it('pages and searches invoices, accounts, attempts, webhooks and refunds the same way', async () => {
      const [inv] = await database.db.select().from(invoices).limit(1);
      clock.advance(1000);
      await database.db.insert(paymentAttempts).values({
        id: 'att_search2',
        invoiceId: inv!.id,
        status: 'declined',
        gatewaySessionId: 'ps_search2',
        createdAt: clock.now(),
        updatedAt: clock.now(),
      });
      const lists = [
        ['/staff/invoices', 'staff-invoice', 'invoice'],
        ['/staff/customers', 'staff-customer', 'user'],
        ['/staff/payments/attempts', 'staff-attempt', 'attempt'],
      ] as const;
      for (const [path, testid, attr] of lists) {
        const html = await (await staff.send(`${path}?limit=1`)).text();
        const [top] = rowIds(html, testid, attr);
        assert.ok(top, `${path} shows a row`);
        const older = pageLink(html, 'older');
        assert.ok(older, `${path} has an older page`);
        const next = rowIds(await (await staff.send(older)).text(), testid, attr);
        assert.equal(next.length, 1);
        assert.notEqual(next[0], top, `${path}: the older page holds another row`);
        const found = rowIds(await (await staff.send(`${path}?q=${top}`)).text(), testid, attr);
        assert.deepEqual(found, [top], `${path} finds a row by its id`);
      }
      const sessions = await (await staff.send('/staff/payments/attempts?q=cs_test_a1B2c3')).text();
      assert.deepEqual(rowIds(sessions, 'staff-attempt', 'attempt'), ['att_search1']);
      const declined = await (await staff.send('/staff/payments/attempts?status=declined')).text();
      assert.deepEqual(rowIds(declined, 'staff-attempt', 'attempt'), ['att_search2']);
      const staffOnly = await (await staff.send('/staff/customers?status=staff')).text();
      assert.ok(rowIds(staffOnly, 'staff-customer', 'user').length >= 2);
      assert.doesNotMatch(staffOnly, /customer@shop\.test/);
      for (const path of ['/staff/payments/webhooks?status=accepted', '/staff/refunds?status=succeeded&q=x'])
        assert.equal((await staff.send(path)).status, 200, path);
      assert.equal((await staff.send('/staff/refunds?status=done')).status, 400);
      assert.equal((await staff.send('/staff/payments/webhooks?status=captured')).status, 400);
    });

    it('gives customers and visitors none of it, whatever the parameters', async () => {
      const paths = [
        '/staff/orders?q=customer%40shop.test',
        '/staff/orders?status=paid&limit=200',
        `/staff/orders?before=${someCursor()}`,
        '/staff/orders?q=%25',
        '/staff/invoices?q=inv_',
        '/staff/customers?q=%40',
        '/staff/payments/attempts?q=cs_test_a1B2c3',
        '/staff/payments/webhooks?status=accepted',
        '/staff/refunds?status=succeeded',
        '/staff/orders?status=bogus',
      ];
      const visitor = new ShopClient(app, '198.51.100.33');
      for (const path of paths) {
        const res = await customer.send(path);
        assert.equal(res.status, 404, `customer: ${path}`);
        const html = await res.text();
        assert.doesNotMatch(html, /other@shop\.test|data-testid="staff-|Allowed:/, `customer: ${path}`);
        assert.equal((await visitor.send(path)).status, 302, `visitor: ${path}`);
      }
    });
  });
}
