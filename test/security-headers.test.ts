// Every page of every party carries a strict Content-Security-Policy (no inline or eval'd script, never
// framed, no plugins, no <base>, forms to itself — the shop's also to the gateway's hosted page) with
// nosniff, X-Frame-Options and a Referrer-Policy, and its markup needs nothing that policy forbids:
// no inline script, no inline style, no on*= handler. The shop over app.request (anonymous, customer,
// staff, error pages); the gateway's and the bank's pages over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { logIn, startTestBank, type TestBank } from '../src/bank/testing.ts';
import { startTestGateway, TEST_API_KEY } from '../src/gateway/testing.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { applyInvoiceEvent } from '../src/shop/commands/invoice-transition.ts';
import { assertStrictPage, parseCsp } from './support/csp.ts';
import { ShopClient } from './support/shop-client.ts';
import { address, DEMO } from './support/factories.ts';

describe('the shop: every page under a strict CSP', () => {
  let shop: ServiceHandle;
  let database: Database;
  const clock = fakeClock(Date.now());
  const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
  const expected = { connect: ["'self'", 'ws://shop.example:8080'], formAction: ["'self'", 'https://pay.example'] };
  let productId = '';
  let ids = { orderId: '', invoiceId: '', paidOrderId: '', paidInvoiceId: '' };

  async function loggedIn(email: string, password: string): Promise<ShopClient> {
    const client = new ShopClient(app, `198.51.100.${Math.floor(Math.random() * 250)}`);
    assert.equal((await client.login(email, password)).status, 303, `log in as ${email}`);
    return client;
  }
  /** Fills the cart and the delivery and address steps. */
  async function toPayStep(client: ShopClient) {
    await client.emptyCart();
    assert.equal((await client.send('/cart/add', { form: { productId, quantity: '1' } })).status, 303);
    const deliveryMethodId = (await listDeliveryMethods(database.db))[0]!.id;
    assert.equal((await client.send('/checkout/delivery', { form: { deliveryMethodId } })).status, 303);
    assert.equal((await client.send('/checkout/address', { form: address() })).status, 303);
  }
  async function buy(client: ShopClient) {
    await toPayStep(client);
    const cartId = /name="cartId" value="([^"]+)"/.exec(await (await client.send('/checkout/pay')).text())![1]!;
    const res = await client.send('/checkout/pay', { form: { cartId } });
    const invoiceId = /\/invoices\/(inv_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
    const json = (await (await client.send(`/api/invoices/${invoiceId}`)).json()) as { invoice: { orderId: string } };
    return { invoiceId, orderId: json.invoice.orderId };
  }
  /** Fetches a page and checks it; returns its HTML. */
  async function page(
    client: ShopClient,
    path: string,
    status = 200,
    init: Parameters<ShopClient['send']>[1] = {},
  ): Promise<string> {
    const res = await client.send(path, init);
    const html = await res.text();
    assert.equal(res.status, status, `${path}: ${html.slice(0, 200)}`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, path);
    assertStrictPage(path, res.headers, html, expected);
    return html;
  }

  before(async () => {
    database = await freshDatabase(shopDatabaseSpec, 'pglite');
    const env = {
      SHOP_PORT: '0',
      SHOP_SESSION_SECRET: 'csp-test-secret-'.padEnd(48, 'x'),
      SHOP_PUBLIC_URL: 'http://shop.example:8080',
      SHOP_GATEWAY_URL: 'http://gateway.internal:3001/api',
      SHOP_GATEWAY_PAGE_ORIGIN: 'https://pay.example',
      SHOP_TRUST_PROXY: 'true',
      LOG_LEVEL: 'silent',
    };
    shop = await startShop(loadShopConfig(env), { database, clock });
    productId = (await listProducts(database.db))[0]!.id;
    const customer = await loggedIn(...DEMO.customer);
    const open = await buy(customer);
    const paid = await buy(customer);
    await database.transaction((tx) => applyInvoiceEvent(tx, paid.invoiceId, 'pay', 'test', clock.now()));
    ids = { ...open, paidOrderId: paid.orderId, paidInvoiceId: paid.invoiceId };
  });
  after(() => shop?.stop());

  it("the form-action origin defaults to the gateway URL's origin", () => {
    const config = loadShopConfig({
      SHOP_SESSION_SECRET: 'x'.repeat(40),
      SHOP_GATEWAY_URL: 'https://gw.example:8443/base',
    });
    assert.equal(config.settings.gatewayPageOrigin, 'https://gw.example:8443');
  });

  it('serves the anonymous pages, and the error pages, under the policy', async () => {
    const visitor = new ShopClient(app);
    await page(visitor, '/');
    await page(visitor, `/products/${productId}`);
    await page(visitor, '/login');
    await page(visitor, '/login?next=%2Fcart');
    await page(visitor, '/register');
    // A refused form (no CSRF token) and a failed login answer with pages too.
    await page(visitor, '/cart/add', 403, { form: { productId, quantity: '1' }, csrf: false });
    await page(visitor, '/login', 401, { form: { email: 'customer@shop.test', password: 'wrong-password' } });
  });

  it("serves the customer's pages — cart, the four checkout steps, orders, open and paid invoice, receipt — under the policy", async () => {
    const customer = await loggedIn(...DEMO.customer);
    await page(customer, '/');
    await page(customer, `/products/${productId}`);
    await toPayStep(customer);
    for (const path of ['/cart', '/checkout', '/checkout/delivery', '/checkout/address', '/checkout/pay', '/orders'])
      await page(customer, path);
    await page(customer, `/orders/${ids.orderId}`);
    const invoice = await page(customer, `/invoices/${ids.invoiceId}`);
    // The open invoice's live update is a file from the shop, not inline code.
    assert.match(invoice, /<script src="\/assets\/invoice.js" defer(="")?><\/script>/);
    await page(customer, `/invoices/${ids.paidInvoiceId}`);
    await page(customer, `/orders/${ids.paidOrderId}`);
    assert.match(await page(customer, `/orders/${ids.paidOrderId}/receipt`), /Receipt/i);
    // Someone else's invoice: the "Access denied" page.
    const other = await loggedIn(...DEMO.other);
    await page(other, `/invoices/${ids.invoiceId}`, 404);
  });

  it("serves the staff console's pages under the policy", async () => {
    const staff = await loggedIn(...DEMO.staff);
    for (const path of [
      '/staff',
      '/staff/orders',
      '/staff/invoices',
      '/staff/customers',
      '/staff/products',
      '/staff/refunds',
      '/staff/payments',
    ])
      await page(staff, path);
    await page(staff, `/staff/orders/${ids.paidOrderId}`);
    await page(staff, `/staff/products/${productId}`);
  });

  it('serves its script and stylesheet as files with their type, nosniff and a short public cache', async () => {
    for (const [path, type] of [
      ['/assets/invoice.js', 'text/javascript'],
      ['/assets/shop.css', 'text/css'],
    ] as const) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), `${type}; charset=utf-8`, path);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=300', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.ok((await res.text()).length > 100, path);
    }
  });
});

describe("the gateway's and the bank's pages: the same strict CSP", () => {
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let bank: TestBank;

  before(async () => {
    gw = await startTestGateway('pglite');
    bank = await startTestBank('pglite');
  });
  after(async () => {
    await gw?.stop();
    await bank?.close();
  });

  async function check(url: string, init: RequestInit = {}, status = 200): Promise<{ headers: Headers; html: string }> {
    const res = await fetch(url, { redirect: 'manual', ...init });
    const html = await res.text();
    assert.equal(res.status, status, `${url}: ${html.slice(0, 200)}`);
    assertStrictPage(url, res.headers, html);
    return { headers: res.headers, html };
  }

  it("the gateway's front page, hosted payment page and merchant dashboard", async () => {
    const front = await check(`${gw.url}/`);
    assert.deepEqual(
      parseCsp(front.headers.get('content-security-policy')).get('script-src'),
      ["'none'"],
      'the front page runs no script',
    );
    const session = (await (
      await gw.api('/v1/payment_sessions', {
        body: {
          amount: { minor: '1250', currency: 'EUR' },
          merchant_reference: 'INV-CSP',
          return_url: 'http://shop.test/r',
        },
      })
    ).json()) as { hosted_url: string };
    const pay = await check(session.hosted_url);
    assert.equal(pay.headers.get('referrer-policy'), 'no-referrer', 'the session id in the URL goes nowhere');
    await check(`${gw.url}/dashboard/login`);
    await check(
      `${gw.url}/dashboard/login`,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'api_key=wrong' },
      401,
    );
    const login = await fetch(`${gw.url}/dashboard/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ api_key: TEST_API_KEY }),
    });
    const cookie = login.headers
      .getSetCookie()
      .find((c) => c.startsWith('gw_session='))!
      .split(';')[0]!;
    await check(`${gw.url}/dashboard`, { headers: { cookie } });
    await check(`${gw.url}/dashboard/settings`, { headers: { cookie } });
  });

  it("the bank's login and app pages (their inline code carries the page's nonce)", async () => {
    await check(`${bank.url}/login`);
    const { cookie } = await logIn(bank.url, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
    const app = await check(`${bank.url}/app`, { headers: { cookie } });
    const nonce = /'nonce-([^']+)'/.exec(app.headers.get('content-security-policy') ?? '')?.[1];
    assert.ok(nonce, 'a nonce');
    const nonces = [...app.html.matchAll(/<(?:script|style)\b[^>]*\snonce="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(
      nonces.length >= 2 && nonces.every((n) => n === nonce),
      `the inline style and script carry this answer's nonce: ${nonces.join(', ')}`,
    );
  });
});
