// The customer's shop: catalog, product page, cart, and checkout in four steps (seed 003): review the
// order, choose a delivery method, enter the address, "Pay now". The browser names products and
// quantities only; every price and total is read from the catalog and computed here.
import type { Hono } from 'hono';
import { z } from 'zod';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { multiply, sum, type Money } from '../../core/money.ts';
import { MAX_QUANTITY } from '../domain/checkout.ts';
import { CsrfField, Field, Layout, Notice, Placeholder, show, type PageCtx } from '../pages/layout.tsx';
import { addToCart, cartView, chooseCartDelivery, lastAddress, removeFromCart, saveCartAddress, setCartQuantity, type CartLineView } from '../storage/cart.ts';
import { deliveryMethodsForDisplay, getProduct, listProducts, type Product } from '../storage/catalog.ts';
import { payOrder } from '../commands/start-payment.ts';
import { orderForCart } from '../storage/orders.ts';
import { placeOrder } from '../commands/place-order.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { errorPage, pageCtx, readForm, requireUser } from './helpers.tsx';

type Errors = Partial<Record<string, string>>;

/** Cart lines priced now, with the subtotal (or why there is none). */
function priceCart(lines: readonly CartLineView[]): { available: CartLineView[]; unavailable: CartLineView[]; subtotal: Money | undefined; mixed: boolean } {
  const available = lines.filter((l) => !l.product.archived);
  const unavailable = lines.filter((l) => l.product.archived);
  const currencies = new Set(available.map((l) => l.product.price.currency));
  const mixed = currencies.size > 1;
  const subtotal = available.length > 0 && !mixed ? sum(available.map((l) => multiply(l.product.price, l.quantity)), available[0]!.product.price.currency) : undefined;
  return { available, unavailable, subtotal, mixed };
}

const STEPS = ['Review order', 'Delivery', 'Address', 'Pay'] as const;

const Steps = ({ current }: { current: number }) => (
  <ol class="steps" aria-label="Checkout steps">
    {STEPS.map((s, i) => (
      <li class={i === current ? 'current' : i < current ? 'done' : ''} aria-current={i === current ? 'step' : undefined}>
        {s}
      </li>
    ))}
  </ol>
);

const ProductCard = ({ p }: { p: Product }) => (
  <div class="card product-card" data-testid="product">
    <Placeholder name={p.name} hue={p.imageHue} />
    <a class="title" href={`/products/${p.id}`}>{p.name}</a>
    <span class="price">{show(p.price)}</span>
  </div>
);

const ProductPage = (p: { ctx: PageCtx; product: Product; quantity?: string; error?: string }) => (
  <Layout ctx={p.ctx} title={p.product.name}>
    <div class="product">
      <Placeholder name={p.product.name} hue={p.product.imageHue} />
      <div>
        <h1>{p.product.name}</h1>
        <p class="price" data-testid="price">{show(p.product.price)}</p>
        <p>{p.product.description}</p>
        {p.product.archived ? (
          <Notice>This product is no longer sold.</Notice>
        ) : (
          <form class="stack" method="post" action="/cart/add">
            <CsrfField token={p.ctx.csrf} />
            <input type="hidden" name="productId" value={p.product.id} />
            <Field name="quantity" label="Quantity" type="number" value={p.quantity ?? '1'} min="1" max={String(MAX_QUANTITY)} step="1" inputmode="numeric" error={p.error} />
            <div class="actions">
              <button type="submit">Add to cart</button>
            </div>
          </form>
        )}
      </div>
    </div>
  </Layout>
);

const LinesTable = ({ lines, editable, csrf, subtotal, extra }: { lines: CartLineView[]; editable: boolean; csrf: string; subtotal: Money | undefined; extra?: Array<[string, string]> }) => (
  <div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th>Product</th>
          <th class="num">Price</th>
          <th class="num">Quantity</th>
          <th class="num">Total</th>
          {editable ? <th></th> : null}
        </tr>
      </thead>
      <tbody>
        {lines.map((l) => (
          <tr data-testid="cart-line">
            <td>
              <a href={`/products/${l.product.id}`}>{l.product.name}</a>
              {l.product.archived ? <div class="archived">No longer available — remove it to continue.</div> : null}
            </td>
            <td class="num">{show(l.product.price)}</td>
            <td class="num">
              {editable ? (
                <form class="inline-form" method="post" action="/cart/update">
                  <CsrfField token={csrf} />
                  <input type="hidden" name="productId" value={l.product.id} />
                  <input type="number" name="quantity" value={String(l.quantity)} min="1" max={String(MAX_QUANTITY)} aria-label={`Quantity of ${l.product.name}`} />
                  <button class="secondary" type="submit">Update</button>
                </form>
              ) : (
                l.quantity
              )}
            </td>
            <td class="num">{show(multiply(l.product.price, l.quantity))}</td>
            {editable ? (
              <td>
                <form class="inline-form" method="post" action="/cart/remove">
                  <CsrfField token={csrf} />
                  <input type="hidden" name="productId" value={l.product.id} />
                  <button class="link" type="submit">Remove</button>
                </form>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
      <tfoot>
        {subtotal ? (
          <tr>
            <td colspan={3}>Subtotal</td>
            <td class="num" data-testid="subtotal">{show(subtotal)}</td>
            {editable ? <td></td> : null}
          </tr>
        ) : null}
        {(extra ?? []).map(([label, value]) => (
          <tr>
            <td colspan={3}>{label}</td>
            <td class="num" data-testid={label.toLowerCase()}>{value}</td>
            {editable ? <td></td> : null}
          </tr>
        ))}
      </tfoot>
    </table>
  </div>
);

const addressShape = z.object({
  fullName: z.string().trim().min(1, 'Enter the recipient’s name.').max(200, 'Too long.'),
  line1: z.string().trim().min(1, 'Enter the street and number.').max(200, 'Too long.'),
  line2: z.string().trim().max(200, 'Too long.').default(''),
  postalCode: z.string().trim().regex(/^[A-Za-z0-9 -]{3,10}$/, 'Enter a postal code (3–10 letters or digits).'),
  city: z.string().trim().min(1, 'Enter the city.').max(100, 'Too long.'),
  country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'Enter a two-letter country code, e.g. DE.'),
});

const ADDRESS_FIELDS: Array<[keyof z.infer<typeof addressShape>, string, string]> = [
  ['fullName', 'Full name', 'name'],
  ['line1', 'Street and number', 'address-line1'],
  ['line2', 'Apartment, floor (optional)', 'address-line2'],
  ['postalCode', 'Postal code', 'postal-code'],
  ['city', 'City', 'address-level2'],
  ['country', 'Country (two letters)', 'country'],
];

/** Mounts the catalog, cart and checkout routes. */
export function shopRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock, settings } = deps;
  const db = database.db;

  app.get('/', async (c) => {
    const products = await listProducts(db);
    return c.html(
      <Layout ctx={await pageCtx(c, deps)} title="Catalog">
        <h1>Catalog</h1>
        <div class="grid">
          {products.map((p) => (
            <ProductCard p={p} />
          ))}
        </div>
      </Layout>,
    );
  });

  // Archived products stay reachable: old orders link to them.
  app.get('/products/:id', async (c) => {
    const product = await getProduct(db, c.req.param('id'));
    if (!product) return errorPage(c, deps, new DomainError('not_found'));
    return c.html(<ProductPage ctx={await pageCtx(c, deps)} product={product} />);
  });

  app.get('/api/products', async (c) => {
    const products = await listProducts(db);
    return c.json({ products: products.map((p) => ({ id: p.id, name: p.name, description: p.description, price: { minor: p.price.minor.toString(), currency: p.price.currency } })) });
  });

  // Only productId and quantity are read; a price, amount, owner or status in the form is ignored.
  app.post('/cart/add', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const form = await readForm(c);
    const product = await getProduct(db, form.productId ?? '');
    if (!product) return errorPage(c, deps, new DomainError('product.unavailable'));
    try {
      await addToCart(db, user.id, product.id, form.quantity, clock.now(), product);
    } catch (err) {
      if (!isDomainError(err, 'cart.quantity_invalid') && !isDomainError(err, 'product.unavailable')) throw err;
      const message = isDomainError(err, 'product.unavailable') ? err.message : `Enter a whole number from 1 to ${MAX_QUANTITY} (in total in your cart).`;
      return c.html(<ProductPage ctx={await pageCtx(c, deps)} product={product} quantity={form.quantity} error={message} />, 422);
    }
    return c.redirect('/cart', 303);
  });

  app.post('/api/cart/items', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const body = z.object({ productId: z.string().max(100), quantity: z.unknown() }).passthrough().parse(await c.req.json().catch(() => ({})));
    await addToCart(db, user.id, body.productId, body.quantity, clock.now());
    return c.json(await cartJson(user.id), 201);
  });

  app.get('/api/cart', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    return c.json(await cartJson(user.id));
  });

  async function cartJson(userId: string) {
    const { lines } = await cartView(db, userId, clock.now());
    const { subtotal } = priceCart(lines);
    return {
      lines: lines.map((l) => ({ productId: l.product.id, name: l.product.name, quantity: l.quantity, unitPrice: { minor: l.product.price.minor.toString(), currency: l.product.price.currency } })),
      subtotal: subtotal ? { minor: subtotal.minor.toString(), currency: subtotal.currency } : null,
    };
  }

  app.post('/cart/update', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const form = await readForm(c);
    try {
      await setCartQuantity(db, user.id, form.productId ?? '', form.quantity, clock.now());
    } catch (err) {
      if (!isDomainError(err, 'cart.quantity_invalid')) throw err;
      return renderCart(c, user.id, `Enter a whole number from 1 to ${MAX_QUANTITY}.`, 422);
    }
    return c.redirect('/cart', 303);
  });

  app.post('/cart/remove', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const form = await readForm(c);
    await removeFromCart(db, user.id, form.productId ?? '', clock.now());
    return c.redirect('/cart', 303);
  });

  async function renderCart(c: ShopContext, userId: string, error?: string, status = 200) {
    const { lines } = await cartView(db, userId, clock.now());
    const priced = priceCart(lines);
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title="Cart">
        <h1>Your cart</h1>
        {error ? <Notice kind="error">{error}</Notice> : null}
        {lines.length === 0 ? (
          <p>
            Your cart is empty. <a href="/">Browse the catalog</a>.
          </p>
        ) : (
          <>
            <LinesTable lines={lines} editable csrf={ctx.csrf} subtotal={priced.subtotal} />
            {priced.mixed ? <Notice kind="error">Your cart mixes currencies; one order is paid in one currency.</Notice> : null}
            <div class="actions">
              <a class="button" href="/checkout">Check out</a>
              <a href="/">Continue shopping</a>
            </div>
          </>
        )}
      </Layout>,
      status as 200,
    );
  }

  app.get('/cart', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    return renderCart(c, user.id);
  });

  // Step 1: review the order at today's prices.
  app.get('/checkout', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const { lines } = await cartView(db, user.id, clock.now());
    if (lines.length === 0) return c.redirect('/cart', 303);
    const priced = priceCart(lines);
    const blocked = priced.unavailable.length > 0 || priced.mixed;
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title="Review your order">
        <Steps current={0} />
        <h1>Review your order</h1>
        <LinesTable lines={lines} editable={false} csrf={ctx.csrf} subtotal={priced.subtotal} />
        {blocked ? <Notice kind="error">Some items cannot be ordered; change your cart first.</Notice> : null}
        <div class="actions">
          {blocked ? null : <a class="button" href="/checkout/delivery">Continue to delivery</a>}
          <a href="/cart">Change the cart</a>
        </div>
      </Layout>,
    );
  });

  async function renderDelivery(c: ShopContext, userId: string, error?: string, status = 200) {
    const { cart, lines } = await cartView(db, userId, clock.now());
    if (lines.length === 0) return c.redirect('/cart', 303);
    const methods = await deliveryMethodsForDisplay(db);
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title="Delivery">
        <Steps current={1} />
        <h1>How should we deliver?</h1>
        <form method="post" action="/checkout/delivery" class="stack">
          <CsrfField token={ctx.csrf} />
          <div class={error ? 'field invalid' : 'field'}>
            <div class="options" role="radiogroup" aria-label="Delivery method">
              {methods.map((m, i) => (
                <label class="option">
                  <input type="radio" name="deliveryMethodId" value={m.id} checked={cart.deliveryMethodId ? cart.deliveryMethodId === m.id : i === 1} />
                  <span class="grow">
                    <strong>{m.name}</strong>
                    <br />
                    <span class="muted">{m.description}</span>
                  </span>
                  <span class="price">{show(m.price)}</span>
                </label>
              ))}
            </div>
            {error ? <div class="error" role="alert">{error}</div> : null}
          </div>
          <div class="actions">
            <button type="submit">Continue to address</button>
            <a href="/checkout">Back</a>
          </div>
        </form>
      </Layout>,
      status as 200,
    );
  }

  // Step 2: the delivery method.
  app.get('/checkout/delivery', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    return renderDelivery(c, user.id);
  });

  app.post('/checkout/delivery', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const form = await readForm(c);
    try {
      await chooseCartDelivery(db, user.id, form.deliveryMethodId ?? '', clock.now());
    } catch (err) {
      if (!isDomainError(err, 'checkout.incomplete')) throw err;
      return renderDelivery(c, user.id, 'Choose one of the delivery methods.', 422);
    }
    return c.redirect('/checkout/address', 303);
  });

  async function renderAddress(c: ShopContext, userId: string, values?: Record<string, string>, errors: Errors = {}, status = 200) {
    const { lines, address } = await cartView(db, userId, clock.now());
    if (lines.length === 0) return c.redirect('/cart', 303);
    const prefill = values ?? ((address ?? (await lastAddress(db, userId))) as unknown as Record<string, string> | undefined) ?? {};
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title="Address">
        <Steps current={2} />
        <h1>Where should it go?</h1>
        <form method="post" action="/checkout/address" class="stack card">
          <CsrfField token={ctx.csrf} />
          {ADDRESS_FIELDS.map(([name, label, autocomplete]) => (
            <Field name={name} label={label} value={prefill[name]} error={errors[name]} autocomplete={autocomplete} required={name !== 'line2'} />
          ))}
          <div class="actions">
            <button type="submit">Continue to payment</button>
            <a href="/checkout/delivery">Back</a>
          </div>
        </form>
      </Layout>,
      status as 200,
    );
  }

  // Step 3: the address.
  app.get('/checkout/address', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    return renderAddress(c, user.id);
  });

  app.post('/checkout/address', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const form = await readForm(c);
    const parsed = addressShape.safeParse(form);
    if (!parsed.success) {
      const errors: Errors = {};
      for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
      return renderAddress(c, user.id, form, errors, 422);
    }
    await saveCartAddress(db, user.id, parsed.data, clock.now());
    return c.redirect('/checkout/pay', 303);
  });

  // Step 4: the summary and "Pay now".
  app.get('/checkout/pay', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const { cart, lines, address } = await cartView(db, user.id, clock.now());
    if (lines.length === 0) return c.redirect('/cart', 303);
    const methods = await deliveryMethodsForDisplay(db);
    const method = methods.find((m) => m.id === cart.deliveryMethodId);
    if (!method) return c.redirect('/checkout/delivery', 303);
    if (!address) return c.redirect('/checkout/address', 303);
    const priced = priceCart(lines);
    const total = priced.subtotal && priced.subtotal.currency === method.price.currency ? sum([priced.subtotal, method.price], method.price.currency) : undefined;
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title="Pay">
        <Steps current={3} />
        <h1>Check and pay</h1>
        <div class="two">
          <LinesTable lines={lines} editable={false} csrf={ctx.csrf} subtotal={priced.subtotal} extra={[[`Delivery`, show(method.price)], ['Total', total ? show(total) : '—']]} />
          <div class="card">
            <h2>Delivery</h2>
            <p>
              {method.name}
              <br />
              <a href="/checkout/delivery">Change</a>
            </p>
            <h2>Address</h2>
            <p>
              {address.fullName}
              <br />
              {address.line1}
              {address.line2 ? <><br />{address.line2}</> : null}
              <br />
              {address.postalCode} {address.city}
              <br />
              {address.country}
              <br />
              <a href="/checkout/address">Change</a>
            </p>
          </div>
        </div>
        <form method="post" action="/checkout/pay" class="actions">
          <CsrfField token={ctx.csrf} />
          <input type="hidden" name="cartId" value={cart.id} />
          <button type="submit">Pay now</button>
          <span class="muted">Your order is placed at these prices and an invoice is issued, valid for {Math.round(settings.invoiceTtlSeconds / 60)} minutes.</span>
        </form>
      </Layout>,
    );
  });

  // "Pay now": places the order (once per cart) and shows its valid invoice. Issue 6 redirects from
  // the invoice to the gateway. Nothing but the cart id is read from the form.
  app.post('/checkout/pay', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const form = await readForm(c);
    const now = clock.now();
    let orderId: string;
    try {
      orderId = (await placeOrder(db, user.id, now)).id;
    } catch (err) {
      if (isDomainError(err, 'cart.empty')) {
        // A repeated click after the order was placed: the same order, not a second one.
        const existing = form.cartId ? await orderForCart(db, user.id, form.cartId) : undefined;
        if (!existing) return c.redirect('/cart', 303);
        orderId = existing.id;
      } else if (isDomainError(err, 'checkout.incomplete')) {
        return c.redirect(err.details?.field === 'address' ? '/checkout/address' : '/checkout/delivery', 303);
      } else if (isDomainError(err, 'product.unavailable') || isDomainError(err, 'money.currency_mismatch')) {
        return c.redirect('/checkout', 303);
      } else throw err;
    }
    try {
      // Issue 6: a payment attempt and a hosted session at the gateway, then off to its page.
      return c.redirect(await payOrder(deps, orderId, user.id), 303);
    } catch (err) {
      if (isDomainError(err, 'order.not_payable')) return c.redirect(`/orders/${orderId}`, 303);
      throw err;
    }
  });
}
