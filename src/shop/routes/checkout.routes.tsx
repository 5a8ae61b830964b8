// The checkout in four steps: review the order, choose a delivery method, enter the address, "Pay
// now". Every price and total is read from the catalog and computed here, never taken from the form.
import { isCountryCode } from '../domain/countries.ts';
import type { Hono } from 'hono';
import { z } from 'zod';
import { isDomainError } from '../../core/errors.ts';
import { AddressPage, CheckoutPayPage, DeliveryPage, ReviewPage, type AddressField } from '../pages/checkout.page.tsx';
import { payOrder, placeOrderAndPay } from '../commands/start-payment.ts';
import { chooseCartDelivery, saveCartAddress } from '../storage/cart.ts';
import { addressPrefill, checkoutSummary, pricedCart } from '../storage/cart-views.ts';
import { deliveryMethodsForDisplay } from '../storage/catalog.ts';
import { orderForCart } from '../storage/orders.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { pageCtx, readForm, requireUser } from './helpers.tsx';

type Errors = Partial<Record<string, string>>;

const addressShape = z.object({
  fullName: z.string().trim().min(1, 'Enter the recipient’s name.').max(200, 'Too long.'),
  line1: z.string().trim().min(1, 'Enter the street and number.').max(200, 'Too long.'),
  line2: z.string().trim().max(200, 'Too long.').default(''),
  postalCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9 -]{3,10}$/, 'Enter a postal code (3–10 letters or digits).'),
  city: z.string().trim().min(1, 'Enter the city.').max(100, 'Too long.'),
  country: z.string().trim().toUpperCase().refine(isCountryCode, 'Choose the country from the list.'),
});

/** Where a visitor goes when the last step lacks something. */
const STEP_FOR_MISSING = { lines: '/cart', delivery: '/checkout/delivery', address: '/checkout/address' } as const;

/** Mounts the checkout steps and "Pay now". */
export function checkoutRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  registerReviewAndDeliveryRoutes(app, deps);
  registerAddressRoutes(app, deps);
  registerPayRoutes(app, deps);
}

/** Steps 1 and 2: the review and the delivery method. */
function registerReviewAndDeliveryRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock } = deps;
  const db = database.db;

  // Step 1: review the order at today's prices.
  app.get('/checkout', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const priced = await pricedCart(db, user.id, clock.now(), c.get('cartView'));
    if (priced.lines.length === 0) return c.redirect('/cart', 303);
    const blocked = priced.unavailable.length > 0 || priced.mixed;
    return c.html(
      <ReviewPage ctx={await pageCtx(c, deps)} lines={priced.lines} subtotal={priced.subtotal} blocked={blocked} />,
    );
  });

  async function renderDelivery(c: ShopContext, userId: string, error?: string, status: 200 | 422 = 200) {
    const { cart, lines } = await pricedCart(db, userId, clock.now(), c.get('cartView'));
    if (lines.length === 0) return c.redirect('/cart', 303);
    const methods = await deliveryMethodsForDisplay(db);
    return c.html(
      <DeliveryPage ctx={await pageCtx(c, deps)} methods={methods} chosen={cart.deliveryMethodId} error={error} />,
      status,
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
}

/** Step 3: the address. */
function registerAddressRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock } = deps;
  const db = database.db;

  async function renderAddress(
    c: ShopContext,
    userId: string,
    values?: Record<string, string>,
    errors: Errors = {},
    status: 200 | 422 = 200,
  ) {
    const { lines, address } = await pricedCart(db, userId, clock.now(), c.get('cartView'));
    if (lines.length === 0) return c.redirect('/cart', 303);
    const prefill: Partial<Record<AddressField, string>> = values ?? (await addressPrefill(db, userId, address)) ?? {};
    return c.html(<AddressPage ctx={await pageCtx(c, deps)} values={prefill} errors={errors} />, status);
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
}

/** Step 4: the summary and "Pay now". */
function registerPayRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock, settings } = deps;
  const db = database.db;

  // Step 4: the summary and "Pay now".
  app.get('/checkout/pay', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const summary = await checkoutSummary(db, user.id, clock.now(), c.get('cartView'));
    if (summary.missing) return c.redirect(STEP_FOR_MISSING[summary.missing], 303);
    const { priced, method, address, total } = summary;
    return c.html(
      <CheckoutPayPage
        ctx={await pageCtx(c, deps)}
        cartId={priced.cart.id}
        lines={priced.lines}
        subtotal={priced.subtotal}
        total={total}
        method={method}
        address={address}
        invoiceTtlSeconds={settings.invoiceTtlSeconds}
      />,
    );
  });

  // "Pay now": places the order (once per cart), then sends the browser to the gateway's payment
  // page (or to the invoice when no gateway is configured). Nothing but the cart id is read from the form.
  app.post('/checkout/pay', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const form = await readForm(c);
    let orderId: string;
    try {
      // The usual click: order, invoice and attempt written together, then the hosted page.
      return c.redirect((await placeOrderAndPay(deps, user.id)).redirectUrl, 303);
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
      return c.redirect(await payOrder(deps, orderId, user.id), 303);
    } catch (err) {
      if (isDomainError(err, 'order.not_payable')) return c.redirect(`/orders/${orderId}`, 303);
      throw err;
    }
  });
}
