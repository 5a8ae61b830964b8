// The cart: add, change and remove lines, as forms and as JSON. The browser names products and
// quantities only; every price is read from the catalog.
import type { Hono } from 'hono';
import { z } from 'zod';
import { DomainError, isDomainError } from '../../core/errors.ts';
import type { Executor } from '../../platform/db/database.ts';
import { MAX_QUANTITY } from '../domain/checkout.ts';
import { CartPage } from '../pages/cart.page.tsx';
import { ProductPage } from '../pages/catalog.page.tsx';
import { addToCart, removeFromCart, setCartQuantity, type CartView } from '../storage/cart.ts';
import { pricedCart } from '../storage/cart-views.ts';
import { getProduct } from '../storage/catalog.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { errorPage, pageCtx, readForm, requireUser } from './helpers.tsx';

/** The cart as the JSON API answers it. */
async function cartJson(db: Executor, userId: string, now: Date, known?: CartView) {
  const { lines, subtotal } = await pricedCart(db, userId, now, known);
  return {
    lines: lines.map((l) => ({
      productId: l.product.id,
      name: l.product.name,
      quantity: l.quantity,
      unitPrice: { minor: l.product.price.minor.toString(), currency: l.product.price.currency },
    })),
    subtotal: subtotal ? { minor: subtotal.minor.toString(), currency: subtotal.currency } : null,
  };
}

/** Mounts the cart routes. */
export function cartRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock } = deps;
  const db = database.db;

  async function renderCart(c: ShopContext, userId: string, error?: string, status: 200 | 422 = 200) {
    const { lines, subtotal, mixed } = await pricedCart(db, userId, clock.now(), c.get('cartView'));
    return c.html(
      <CartPage ctx={await pageCtx(c, deps)} lines={lines} subtotal={subtotal} mixed={mixed} error={error} />,
      status,
    );
  }

  app.get('/cart', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    return renderCart(c, user.id);
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
      const message = isDomainError(err, 'product.unavailable')
        ? err.message
        : `Enter a whole number from 1 to ${MAX_QUANTITY} (in total in your cart).`;
      return c.html(
        <ProductPage ctx={await pageCtx(c, deps)} product={product} quantity={form.quantity} error={message} />,
        422,
      );
    }
    return c.redirect('/cart', 303);
  });

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

  app.post('/api/cart/items', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const body = z
      .object({ productId: z.string().max(100), quantity: z.unknown() })
      .passthrough()
      .parse(await c.req.json().catch(() => ({})));
    await addToCart(db, user.id, body.productId, body.quantity, clock.now());
    return c.json(await cartJson(db, user.id, clock.now()), 201);
  });

  app.get('/api/cart', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    return c.json(await cartJson(db, user.id, clock.now(), c.get('cartView')));
  });
}
