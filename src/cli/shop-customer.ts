// A customer of the shop over its web pages, as a browser would be (cookies, CSRF tokens, forms):
// what `countersign trigger` uses to place an order and press "Pay now", so that the payment it
// makes is one the shop knows and acknowledges. The demo customer of the shop's seed data by default.
import { CliError, EXIT } from './exit-codes.ts';
import type { CliContext } from './context.ts';
import { unreachable } from './http.ts';

export const DEMO_CUSTOMER = { email: 'customer@shop.test', password: 'demo-customer-password' } as const;

const ADDRESS = {
  fullName: 'Ada Lovelace',
  line1: '1 Analytical St',
  line2: '',
  postalCode: '10115',
  city: 'Berlin',
  country: 'de',
};

/** A browser's worth of cookies talking to the shop. */
class ShopBrowser {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly ctx: CliContext) {}

  async send(path: string, init: { form?: Record<string, string>; json?: unknown; csrf?: string } = {}) {
    const headers: Record<string, string> = { accept: 'text/html' };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ ...(init.csrf ? { _csrf: init.csrf } : {}), ...init.form }).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      headers.accept = 'application/json';
      if (init.csrf) headers['x-csrf-token'] = init.csrf;
      body = JSON.stringify(init.json);
    }
    let res: Response;
    try {
      res = await this.ctx.fetch(`${this.ctx.shopUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        body,
        redirect: 'manual',
      });
    } catch (err) {
      throw unreachable('shop', this.ctx.shopUrl, err);
    }
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async csrf(): Promise<string> {
    const html = await (await this.send('/login')).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!token)
      throw new CliError(EXIT.problem, `the shop at ${this.ctx.shopUrl} served no CSRF token`, 'shop.unexpected');
    return token;
  }
}

function step(res: Response, what: string): void {
  if (res.status >= 400)
    throw new CliError(EXIT.problem, `the shop refused the step "${what}" (${res.status})`, 'shop.step_refused');
}

/**
 * Logs the customer in, puts the shop's first product in an empty cart, walks the checkout and presses
 * "Pay now"; resolves with the gateway's payment session id the shop sent the customer to.
 */
export async function payNowInShop(
  ctx: CliContext,
  customer: { email: string; password: string } = DEMO_CUSTOMER,
): Promise<{ sessionId: string; hostedUrl: string }> {
  const shop = new ShopBrowser(ctx);
  const login = await shop.send('/login', { form: customer, csrf: await shop.csrf() });
  if (login.status !== 303 || !login.headers.get('location') || /\/login/.test(login.headers.get('location')!))
    throw new CliError(EXIT.refused, `the shop refused the login of ${customer.email}`, 'shop.login_refused');
  const csrf = await shop.csrf();
  const { products } = (await (await shop.send('/api/products')).json()) as { products: { id: string }[] };
  if (!products[0]) throw new CliError(EXIT.problem, 'the shop has no product to order', 'shop.no_product');
  const cart = (await (await shop.send('/api/cart')).json()) as { lines?: { productId: string }[] };
  for (const line of cart.lines ?? []) await shop.send('/cart/remove', { form: { productId: line.productId }, csrf });
  step(await shop.send('/api/cart/items', { json: { productId: products[0].id, quantity: 1 }, csrf }), 'add to cart');
  const deliveryPage = await (await shop.send('/checkout/delivery')).text();
  const deliveryMethodId = /name="deliveryMethodId"\s+value="([^"]+)"/.exec(deliveryPage)?.[1];
  if (!deliveryMethodId) throw new CliError(EXIT.problem, 'the shop offered no delivery method', 'shop.no_delivery');
  step(await shop.send('/checkout/delivery', { form: { deliveryMethodId }, csrf }), 'delivery');
  step(await shop.send('/checkout/address', { form: ADDRESS, csrf }), 'address');
  const cartId = /name="cartId" value="([^"]+)"/.exec(await (await shop.send('/checkout/pay')).text())?.[1];
  if (!cartId) throw new CliError(EXIT.problem, 'the shop\'s "Pay now" form carries no cart', 'shop.unexpected');
  const pay = await shop.send('/checkout/pay', { form: { cartId }, csrf });
  const hostedUrl = pay.headers.get('location') ?? '';
  const sessionId = /\/pay\/(ps_[A-Za-z0-9]+)/.exec(hostedUrl)?.[1];
  if (!sessionId)
    throw new CliError(
      EXIT.problem,
      `"Pay now" did not lead to the gateway's page (${pay.status} ${hostedUrl})`,
      'shop.unexpected',
    );
  return { sessionId, hostedUrl };
}
