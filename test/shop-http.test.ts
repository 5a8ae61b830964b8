// The shop over HTTP, in process (app.request) against a real database on both engines: accounts,
// CSRF, the login limit, the checkout, price/quantity tampering and mass assignment, the owner-only
// rule for every owner-scoped route and API, archived products in old orders, the staff console.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { ConfigError } from '../src/platform/config.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { applyInvoiceEvent } from '../src/shop/commands/invoice-transition.ts';
import { invoices, orders, users } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { address, DEMO } from './support/factories.ts';

const SECRET = 'test-secret-'.padEnd(48, 'x');
const env = (extra: Record<string, string> = {}) => ({
  SHOP_PORT: '0',
  SHOP_SESSION_SECRET: SECRET,
  LOG_LEVEL: 'silent',
  SHOP_LOGIN_MAX_FAILURES: '3',
  SHOP_TRUST_PROXY: 'true',
  ...extra,
});

describe('shop configuration', () => {
  it('names the variable at fault', () => {
    assert.throws(
      () => loadShopConfig({ SHOP_SESSION_SECRET: SECRET, SHOP_INVOICE_TTL_SECONDS: 'soon' }),
      (e) => e instanceof ConfigError && /SHOP_INVOICE_TTL_SECONDS/.test(e.message),
    );
    assert.throws(
      () => loadShopConfig({}),
      (e) => e instanceof ConfigError && /SHOP_SESSION_SECRET/.test(e.message) && !e.message.includes(SECRET),
    );
    assert.equal(loadShopConfig({ SHOP_SESSION_SECRET: SECRET }).settings.invoiceTtlSeconds, 1800);
    assert.equal(
      loadShopConfig({ SHOP_SESSION_SECRET: SECRET, SHOP_INVOICE_TTL_SECONDS: '60' }).settings.invoiceTtlSeconds,
      60,
    );
  });
});

for (const engine of testEngines()) {
  describe(`shop over HTTP on ${engine}`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.now());
    let productIds: string[] = [];
    let deliveryIds: string[] = [];
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      shop = await startShop(loadShopConfig(env()), { database, clock });
      productIds = (await listProducts(database.db)).map((p) => p.id);
      deliveryIds = (await listDeliveryMethods(database.db)).map((d) => d.id);
    });
    after(async () => {
      await shop.stop();
    });

    async function loggedIn(email: string, password: string, ip?: string): Promise<ShopClient> {
      const client = new ShopClient(app, ip ?? `198.51.100.${Math.floor(Math.random() * 250)}`);
      const res = await client.login(email, password);
      assert.equal(res.status, 303, `log in as ${email}`);
      return client;
    }
    const customer = () => loggedIn(...DEMO.customer);
    const other = () => loggedIn(...DEMO.other);
    const staff = () => loggedIn(...DEMO.staff);

    /** Goes through the four steps; returns the invoice and order ids. */
    async function buy(
      client: ShopClient,
      items: Array<[string, string]>,
      extraPayFields: Record<string, string> = {},
    ) {
      if (items.length > 0) await client.emptyCart();
      for (const [productId, quantity] of items)
        assert.equal((await client.send('/cart/add', { form: { productId, quantity } })).status, 303);
      assert.equal((await client.send('/checkout')).status, 200);
      assert.equal(
        (await client.send('/checkout/delivery', { form: { deliveryMethodId: deliveryIds[1]! } })).status,
        303,
      );
      assert.equal((await client.send('/checkout/address', { form: address() })).status, 303);
      const page = await (await client.send('/checkout/pay')).text();
      const cartId = /name="cartId" value="([^"]+)"/.exec(page)![1]!;
      const res = await client.send('/checkout/pay', { form: { cartId, ...extraPayFields } });
      assert.equal(res.status, 303);
      const invoiceId = /\/invoices\/(inv_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
      const [inv] = await database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
      return { invoiceId, orderId: inv!.orderId, cartId, invoice: inv! };
    }

    it('shows the catalog and product pages to anyone, with server-side prices', async () => {
      const client = new ShopClient(app);
      const home = await client.send('/');
      assert.equal(home.status, 200);
      const html = await home.text();
      assert.match(html, /<!doctype html>/i);
      assert.equal(html.match(/data-testid="product"/g)?.length, 6);
      assert.match(html, /€12\.50/);
      const css = await client.send('/assets/shop.css');
      assert.match(css.headers.get('content-type') ?? '', /text\/css/);
      assert.equal((await client.send(`/products/${productIds[0]}`)).status, 200);
    });

    it('registers a customer, logs them in and returns them to the page they asked for; a role in the form is ignored', async () => {
      const client = new ShopClient(app);
      const res = await client.send('/register?next=%2Forders', {
        form: { name: 'New Person', email: 'new@shop.test', password: 'long-enough-password', role: 'staff' },
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/orders');
      assert.equal((await client.send('/orders')).status, 200);
      const [row] = await database.db.select().from(users).where(eq(users.email, 'new@shop.test'));
      assert.equal(row!.role, 'customer');
      assert.equal((await client.send('/staff')).status, 404);
      const again = await new ShopClient(app).send('/register', {
        form: { name: 'X', email: 'NEW@shop.test', password: 'long-enough-password' },
      });
      assert.equal(again.status, 422);
      assert.match(await again.text(), /class="error"[^>]*>An account with this email already exists/);
    });

    it('shows inline errors on a bad registration form', async () => {
      const res = await new ShopClient(app).send('/register', {
        form: { name: '', email: 'not-an-email', password: 'short' },
      });
      assert.equal(res.status, 422);
      const html = await res.text();
      for (const text of ['Enter your name.', 'Enter a valid email address.', 'Use at least 10 characters.'])
        assert.ok(html.includes(text), text);
    });

    it('sets the session cookie httpOnly and SameSite=Lax, and not Secure over http', async () => {
      const client = new ShopClient(app);
      await client.csrf();
      const res = await client.send('/login', {
        form: { email: 'customer@shop.test', password: 'demo-customer-password' },
      });
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('shop_session='))!;
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.doesNotMatch(cookie, /Secure/);
    });

    it('issues a new session at login, so a planted session id is worthless (no fixation), and ends it at logout', async () => {
      const client = new ShopClient(app);
      client.cookies.set('shop_session', 'planted-by-attacker');
      await client.login(...DEMO.customer);
      const token = client.cookies.get('shop_session')!;
      assert.notEqual(token, 'planted-by-attacker');
      const first = await client.login(...DEMO.customer);
      assert.equal(first.status, 303);
      assert.notEqual(client.cookies.get('shop_session'), token, 'a second login rotates the id again');
      const stale = new ShopClient(app);
      stale.cookies.set('shop_session', token);
      assert.equal((await stale.send('/orders')).status, 302, 'the previous session id no longer logs in');
      assert.equal((await client.send('/logout', { form: {} })).status, 303);
      assert.equal((await client.send('/orders')).status, 302);
    });

    it('returns after login only to same-origin paths (no open redirect)', async () => {
      for (const [next, expected] of [
        ['/orders', '/orders'],
        ['https://evil.test/x', '/'],
        ['//evil.test', '/'],
        ['/\\evil.test', '/'],
      ] as const) {
        const res = await new ShopClient(app).login(...DEMO.customer, next);
        assert.equal(res.headers.get('location'), expected, next);
      }
    });

    it('rate-limits failed logins per account, from any address, even with the right password afterwards', async () => {
      const client = new ShopClient(app, '192.0.2.50');
      for (let i = 0; i < 3; i++) {
        const res = await client.login('other@shop.test', 'wrong-password');
        assert.equal(res.status, 401);
        assert.match(await res.text(), /The email or password is not right/);
      }
      const blocked = await client.login(...DEMO.other);
      assert.equal(blocked.status, 429);
      assert.match(await blocked.text(), /Too many failed attempts/);
      // The limit is the account's, not the pair's: guessing from many addresses gains nothing.
      assert.equal(
        (await new ShopClient(app, '192.0.2.51').login(...DEMO.other)).status,
        429,
        'another address is blocked too',
      );
      assert.equal(
        (await new ShopClient(app, '192.0.2.50').login(...DEMO.customer)).status,
        303,
        'another account from the same address is not',
      );
      clock.advance(16 * 60 * 1000);
      assert.equal((await client.login(...DEMO.other)).status, 303, 'the window passes');
    });

    it('refuses state-changing forms and JSON without the CSRF token or with a wrong one', async () => {
      const client = await customer();
      const cases: Array<[string, Parameters<ShopClient['send']>[1]]> = [
        ['/cart/add', { form: { productId: productIds[0]!, quantity: '1' }, csrf: false }],
        ['/cart/add', { form: { productId: productIds[0]!, quantity: '1' }, csrf: 'forged-token' }],
        ['/api/cart/items', { json: { productId: productIds[0], quantity: 1 }, csrf: false }],
        ['/api/cart/items', { json: { productId: productIds[0], quantity: 1 }, csrf: 'forged-token' }],
        ['/logout', { form: {}, csrf: false }],
        ['/checkout/pay', { form: {}, csrf: false }],
      ];
      for (const [path, options] of cases) {
        const res = await client.send(path, options);
        assert.equal(res.status, 403, path);
      }
      // A token from another visitor's page does not work either.
      const stranger = await other();
      const foreign = await stranger.csrf();
      assert.equal(
        (await client.send('/cart/add', { form: { productId: productIds[0]!, quantity: '1' }, csrf: foreign })).status,
        403,
      );
      const anonymous = new ShopClient(app);
      assert.equal(
        (
          await anonymous.send('/login', {
            form: { email: 'customer@shop.test', password: 'demo-customer-password' },
            csrf: false,
          })
        ).status,
        403,
      );
      const cart = (await (await client.send('/api/cart', { headers: { accept: 'application/json' } })).json()) as {
        lines: unknown[];
      };
      assert.equal(cart.lines.length, 0, 'nothing was added');
      assert.equal((await client.send('/orders')).status, 200, 'still logged in');
      assert.equal(
        (await client.send('/api/cart/items', { json: { productId: productIds[0], quantity: 1 } })).status,
        201,
        'with the token it works',
      );
    });

    it('refuses every state-changing route of the shop without a valid CSRF token', async () => {
      const client = await customer();
      const { orderId } = await buy(client, [[productIds[0]!, '1']]);
      const posts = shop.app.routes.filter(
        (r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH' || r.method === 'DELETE',
      );
      const paths = [...new Set(posts.map((r) => r.path))].filter((p) => !p.startsWith('/webhooks/'));
      assert.ok(paths.length >= 15, `found ${paths.length} state-changing routes`);
      for (const path of paths) {
        const concrete = path
          .replace('/orders/:id', `/orders/${orderId}`)
          .replace('/staff/products/:id', `/staff/products/${productIds[0]}`)
          .replace('/staff/refunds/:id', '/staff/refunds/ref_none')
          .replace('/staff/disputes/:id', '/staff/disputes/dp_none');
        assert.doesNotMatch(concrete, /:/, `no parameter left in ${concrete}`);
        for (const csrf of [false, 'wrong-token'] as const) {
          const res = await client.send(concrete, { form: { productId: productIds[0]!, quantity: '1' }, csrf });
          assert.equal(res.status, 403, `${concrete} with ${csrf || 'no token'}`);
        }
      }
    });

    it('refuses negative, zero, fractional, huge and malformed quantities, leaving the cart unchanged', async () => {
      const client = await loggedIn(...DEMO.customer);
      const before = await (await client.send('/api/cart')).json();
      for (const quantity of ['-1', '0', '1.5', '100', '1e2', '99999999999999999999', 'abc', '', '0x10']) {
        const res = await client.send('/cart/add', { form: { productId: productIds[1]!, quantity } });
        assert.equal(res.status, 422, `form quantity ${quantity}`);
        assert.match(await res.text(), /class="error"[^>]*>Enter a whole number from 1 to 99/);
      }
      for (const quantity of [-1, 0, 1.5, 100, 1e21, '3', null, [1]]) {
        const res = await client.send('/api/cart/items', { json: { productId: productIds[1], quantity } });
        assert.equal(res.status, quantity === '3' ? 201 : 422, `json quantity ${JSON.stringify(quantity)}`);
        if (quantity === '3') await client.send('/cart/remove', { form: { productId: productIds[1]! } });
      }
      // 60 + 60 would pass 99 in total.
      assert.equal(
        (await client.send('/cart/add', { form: { productId: productIds[2]!, quantity: '60' } })).status,
        303,
      );
      assert.equal(
        (await client.send('/cart/add', { form: { productId: productIds[2]!, quantity: '60' } })).status,
        422,
      );
      assert.equal(
        (await client.send('/cart/update', { form: { productId: productIds[2]!, quantity: '-5' } })).status,
        422,
      );
      await client.send('/cart/remove', { form: { productId: productIds[2]! } });
      assert.deepEqual(await (await client.send('/api/cart')).json(), before);
    });

    it('ignores prices, amounts, owners and statuses sent by the browser (mass assignment)', async () => {
      const client = await customer();
      const otherUser = (await database.db.select().from(users).where(eq(users.email, 'other@shop.test')))[0]!;
      const products = await listProducts(database.db);
      const [mug, poster] = [products[0]!, products[3]!];
      await client.emptyCart();
      // Another product's (lower) price, and a made-up one, are ignored: the catalog decides.
      await client.send('/cart/add', {
        form: {
          productId: poster.id,
          quantity: '2',
          price: mug.price.minor.toString(),
          unitPrice: '1',
          priceMinor: '1',
          currency: 'JPY',
        },
      });
      await client.send('/api/cart/items', {
        json: { productId: mug.id, quantity: 1, unitPrice: { minor: '1', currency: 'EUR' }, price: 1 },
      });
      const { orderId, invoice } = await buy(client, [], {
        amount: '1',
        amountMinor: '1',
        total: '1',
        status: 'paid',
        userId: otherUser.id,
        ownerId: otherUser.id,
        currency: 'USD',
        valid: 'false',
      });
      const [order] = await database.db.select().from(orders).where(eq(orders.id, orderId));
      const delivery = (await listDeliveryMethods(database.db))[1]!;
      const expected = poster.price.minor * 2n + mug.price.minor + delivery.price.minor;
      assert.equal(order!.totalMinor, expected);
      assert.deepEqual(
        [
          invoice.amountMinor,
          invoice.currency,
          invoice.status,
          invoice.valid,
          invoice.userId,
          order!.userId,
          order!.status,
        ],
        [expected, 'EUR', 'open', true, order!.userId, order!.userId, 'awaiting_payment'],
      );
      assert.notEqual(order!.userId, otherUser.id);
      const api = (await (await client.send(`/api/orders/${orderId}`)).json()) as {
        order: { lines: Array<{ unitPrice: { minor: string } }> };
      };
      assert.deepEqual(
        api.order.lines.map((l) => l.unitPrice.minor).sort(),
        [mug.price.minor.toString(), poster.price.minor.toString()].sort(),
      );
    });

    it('goes through review, delivery, address (with inline errors) and "Pay now" to the invoice; a second click reuses it', async () => {
      const client = await customer();
      await client.send('/cart/add', { form: { productId: productIds[0]!, quantity: '2' } });
      assert.match(await (await client.send('/checkout')).text(), /Review your order/);
      const noChoice = await client.send('/checkout/delivery', { form: { deliveryMethodId: 'dlv_bogus' } });
      assert.equal(noChoice.status, 422);
      assert.match(await noChoice.text(), /Choose one of the delivery methods/);
      await client.send('/checkout/delivery', { form: { deliveryMethodId: deliveryIds[0]! } });
      const bad = await client.send('/checkout/address', {
        form: { fullName: '', line1: '', postalCode: '!', city: '', country: 'Germany' },
      });
      assert.equal(bad.status, 422);
      const html = await bad.text();
      for (const text of [
        'Enter the recipient’s name.',
        'Enter the street and number.',
        'Enter a postal code',
        'Enter the city.',
        'Choose the country from the list.',
      ])
        assert.ok(html.includes(text), text);
      // Two letters are not enough: only an ISO 3166 country passes the server's check.
      const unknownCountry = await client.send('/checkout/address', {
        form: { fullName: 'Ada', line1: 'Street 1', postalCode: '10115', city: 'Berlin', country: 'XX' },
      });
      assert.equal(unknownCountry.status, 422);
      assert.match(await unknownCountry.text(), /id="e-country"[^>]*>Choose the country from the list\./);
      await client.send('/checkout/address', {
        form: { fullName: 'Ada', line1: 'Street 1', postalCode: '10115', city: 'Berlin', country: 'DE' },
      });
      const pay = await (await client.send('/checkout/pay')).text();
      const cartId = /name="cartId" value="([^"]+)"/.exec(pay)![1]!;
      const first = await client.send('/checkout/pay', { form: { cartId } });
      const second = await client.send('/checkout/pay', { form: { cartId } });
      assert.equal(first.headers.get('location'), second.headers.get('location'));
      const invoicePage = await client.send(first.headers.get('location')!);
      assert.equal(invoicePage.status, 200);
      const text = await invoicePage.text();
      const product = (await listProducts(database.db))[0]!;
      const delivery = (await listDeliveryMethods(database.db))[0]!;
      const total = product.price.minor * 2n + delivery.price.minor;
      assert.ok(text.includes(`€${(Number(total) / 100).toFixed(2)}`), 'invoice shows the server-computed total');
      assert.match(text, /data-testid="invoice-status">open/);
    });

    describe('owner-only pages and APIs', () => {
      let ids: { orderId: string; invoiceId: string };
      before(async () => {
        const owner = await customer();
        ids = await buy(owner, [[productIds[4]!, '1']]);
      });
      const routes = () => [
        { path: `/orders/${ids.orderId}`, api: false },
        { path: `/invoices/${ids.invoiceId}`, api: false },
        { path: `/orders/${ids.orderId}/receipt`, api: false },
        { path: `/api/orders/${ids.orderId}`, api: true },
        { path: `/api/invoices/${ids.invoiceId}`, api: true },
        { path: `/api/invoices/${ids.invoiceId}/status`, api: true },
      ];

      it('sends an anonymous visitor to log in, then back to the page', async () => {
        for (const r of routes()) {
          const client = new ShopClient(app);
          const res = await client.send(r.path);
          if (r.api) {
            assert.equal(res.status, 401, r.path);
          } else {
            assert.equal(res.status, 302, r.path);
            const location = res.headers.get('location')!;
            assert.equal(location, `/login?next=${encodeURIComponent(r.path)}`);
            const login = await client.send(location, {
              form: { email: 'customer@shop.test', password: 'demo-customer-password' },
            });
            assert.equal(login.headers.get('location'), r.path);
            assert.equal((await client.send(r.path)).status, 200, `${r.path} after login`);
          }
        }
      });

      it('answers another customer "Access denied" with 404, revealing nothing and looking like a missing id', async () => {
        const stranger = await other();
        for (const r of routes()) {
          const res = await stranger.send(r.path);
          const body = await res.text();
          assert.equal(res.status, 404, r.path);
          assert.ok(!body.includes(ids.orderId) || (r.path.includes(ids.orderId) && !body.includes('Ada')), r.path);
          assert.ok(
            // The session's random CSRF token is left out: base64url can spell "Ada" by chance.
            !/€|Ada|Berlin|amount/.test(
              body.replace(/Demo shop of countersign — prices in euro/, '').replace(/name="_csrf" value="[^"]*"/g, ''),
            ),
            `${r.path} leaks nothing`,
          );
          const missing = await stranger.send(
            r.path.replace(/(ord|inv)_\w{26}/, (m) => `${m.slice(0, 4)}${'0'.repeat(26)}`),
          );
          assert.equal(missing.status, 404);
          if (r.api) assert.deepEqual(JSON.parse(body), await missing.json());
          else assert.match(body, /Access denied/);
        }
        for (const action of ['pay', 'delivery']) {
          const res = await stranger.send(`/orders/${ids.orderId}/${action}`, {
            form: { deliveryMethodId: deliveryIds[2]! },
          });
          assert.equal(res.status, 404, action);
        }
        const [inv] = await database.db.select().from(invoices).where(eq(invoices.id, ids.invoiceId));
        assert.equal(inv!.status, 'open', 'the stranger changed nothing');
      });

      it('lets nobody but the owner pay or change the order, not even staff', async () => {
        const boss = await staff();
        for (const action of ['pay', 'delivery']) {
          const res = await boss.send(`/orders/${ids.orderId}/${action}`, {
            form: { deliveryMethodId: deliveryIds[2]! },
          });
          assert.equal(res.status, 404, action);
        }
        const rows = await database.db.select().from(invoices).where(eq(invoices.orderId, ids.orderId));
        assert.deepEqual(
          rows.map((r) => [r.id, r.status]),
          [[ids.invoiceId, 'open']],
        );
      });

      it('shows every owner-scoped page and API to the owner and to staff', async () => {
        for (const client of [await customer(), await staff()]) {
          for (const r of routes()) {
            const res = await client.send(r.path);
            assert.equal(res.status, 200, r.path);
          }
        }
      });
    });

    it('changing the delivery of an unpaid order voids its invoice and issues a new one', async () => {
      const client = await customer();
      const { orderId, invoiceId } = await buy(client, [[productIds[5]!, '1']]);
      const res = await client.send(`/orders/${orderId}/delivery`, { form: { deliveryMethodId: deliveryIds[2]! } });
      assert.equal(res.status, 303);
      const rows = await database.db.select().from(invoices).where(eq(invoices.orderId, orderId));
      assert.deepEqual(rows.map((r) => r.status).sort(), ['open', 'voided']);
      assert.equal(rows.find((r) => r.id === invoiceId)!.status, 'voided');
      const pay = await client.send(`/orders/${orderId}/pay`, { form: {} });
      assert.equal(pay.headers.get('location'), `/invoices/${rows.find((r) => r.status === 'open')!.id}`);
    });

    it('renders a receipt only once the order is paid', async () => {
      const client = await customer();
      const { orderId, invoiceId } = await buy(client, [[productIds[1]!, '1']]);
      assert.match(await (await client.send(`/orders/${orderId}/receipt`)).text(), /No receipt yet/);
      await database.transaction((tx) => applyInvoiceEvent(tx, invoiceId, 'pay', 'test', clock.now()));
      const html = await (await client.send(`/orders/${orderId}/receipt`)).text();
      assert.match(html, /data-testid="receipt-amount"/);
      const status = await (await client.send(`/api/invoices/${invoiceId}/status`)).json();
      // `attempt`: the latest payment attempt (none here: paid by the test directly), which the invoice page's polling watches.
      assert.deepEqual(status, { id: invoiceId, status: 'paid', valid: false, orderStatus: 'paid', attempt: null });
    });

    it("keeps an archived product's old order with its frozen name and price after a staff price change", async () => {
      const boss = await staff();
      const created = await boss.send('/staff/products', {
        form: { name: 'Limited print', description: 'Numbered', price: '40.00' },
      });
      assert.equal(created.status, 303);
      const productId = /\/staff\/products\/(prd_\w+)/.exec(created.headers.get('location')!)![1]!;
      const client = await customer();
      const { orderId } = await buy(client, [[productId, '1']]);
      assert.equal((await boss.send(`/staff/products/${productId}/price`, { form: { price: '99.99' } })).status, 303);
      assert.equal((await boss.send(`/staff/products/${productId}/archive`, { form: {} })).status, 303);
      const page = await (await client.send(`/orders/${orderId}`)).text();
      assert.match(page, /Limited print/);
      assert.match(page, /€40\.00/);
      assert.doesNotMatch(page, /€99\.99/);
      const catalog = await (await client.send('/')).text();
      assert.doesNotMatch(catalog, /Limited print/);
      const productPage = await client.send(`/products/${productId}`);
      assert.equal(productPage.status, 200);
      assert.match(await productPage.text(), /no longer sold/);
      assert.equal((await client.send('/cart/add', { form: { productId, quantity: '1' } })).status, 422);
    });

    it('lets only staff into the console and shows field errors on product forms', async () => {
      assert.equal((await new ShopClient(app).send('/staff/orders')).status, 302);
      const cust = await customer();
      for (const path of ['/staff', '/staff/orders', '/staff/invoices', '/staff/customers', '/staff/products'])
        assert.equal((await cust.send(path)).status, 404, path);
      assert.equal((await cust.send('/staff/products', { form: { name: 'Hack', price: '1.00' } })).status, 404);
      const boss = await staff();
      for (const path of ['/staff', '/staff/orders', '/staff/invoices', '/staff/customers', '/staff/products'])
        assert.equal((await boss.send(path)).status, 200, path);
      for (const price of ['-1', '0', '1.999', 'abc']) {
        const res = await boss.send('/staff/products', { form: { name: 'Thing', price } });
        assert.equal(res.status, 422, price);
        assert.match(await res.text(), /class="error"/);
      }
    });

    it('"My orders" pages through every order, 50 at a time, newest first, and shows no one else\'s', async () => {
      const client = new ShopClient(app);
      const email = `many-orders-${engine}@shop.test`;
      const registered = await client.send('/register', {
        form: { name: 'Many Orders', email, password: 'long-enough-password' },
      });
      assert.equal(registered.status, 303);
      const mine: string[] = [];
      for (let i = 0; i < 51; i++) {
        clock.advance(1000);
        mine.push((await buy(client, [[productIds[0]!, '1']])).orderId);
      }
      const foreign = (await buy(await other(), [[productIds[1]!, '1']])).orderId;
      const idsOn = (html: string) => [...html.matchAll(/<a href="\/orders\/(ord_\w+)">/g)].map((m) => m[1]!);
      const first = await (await client.send('/orders')).text();
      assert.deepEqual(idsOn(first), mine.slice(1).reverse(), 'the newest 50, newest first');
      const older = /href="(\/orders\?before=[\w-]+)"/.exec(first)?.[1];
      assert.ok(older, 'an "Older" link');
      assert.doesNotMatch(first, /\/orders\?after=/, 'no "Newer" link on the first page');
      const second = await (await client.send(older)).text();
      assert.deepEqual(idsOn(second), [mine[0]!], 'the oldest on the next page');
      const newer = /href="(\/orders\?after=[\w-]+)"/.exec(second)?.[1];
      assert.ok(newer, 'a "Newer" link back');
      assert.doesNotMatch(second, /\/orders\?before=/);
      assert.deepEqual(idsOn(await (await client.send(newer)).text()), mine.slice(1).reverse());
      for (const page of [first, second]) assert.ok(!page.includes(foreign), "another customer's order is not listed");
      const damaged = await client.send('/orders?before=not-a-cursor');
      assert.equal(damaged.status, 303);
      assert.equal(damaged.headers.get('location'), '/orders');
    });
  });
}

describe('shop over https', () => {
  let shop: ServiceHandle;
  before(async () => {
    const database = await freshDatabase(shopDatabaseSpec, 'pglite');
    shop = await startShop(loadShopConfig(env({ SHOP_PUBLIC_URL: 'https://shop.example' })), { database });
  });
  after(async () => {
    await shop.stop();
  });
  it('marks the session cookie Secure when the public URL is https', async () => {
    const client = new ShopClient(shop.app);
    const res = await client.login(...DEMO.customer);
    assert.equal(res.status, 303);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('shop_session='))!;
    assert.match(cookie, /Secure/);
    assert.match(cookie, /HttpOnly/);
  });
});
