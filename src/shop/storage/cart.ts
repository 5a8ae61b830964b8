// The customer's cart: one open cart per user, lines of (product, quantity), and the checkout choices
// made so far (delivery method, address). It holds no prices: prices are read from the catalog when
// shown and frozen into the order at "Pay now".
import { and, asc, eq, exists, sql } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import { MAX_QUANTITY, parseQuantity } from '../domain/checkout.ts';
import type { DeliveryOption } from '../domain/checkout.ts';
import { toDeliveryOption, toProduct, type Product } from './catalog.ts';
import { addresses, cartLines, carts, deliveryMethods, products, type FrozenAddress } from './tables.ts';

export type Cart = typeof carts.$inferSelect;
export type Address = typeof addresses.$inferSelect;

/** The user's open cart, created on first use (the partial unique index makes races harmless). */
export async function openCart(db: Executor, userId: string, now: Date): Promise<Cart> {
  const [existing] = await db
    .select()
    .from(carts)
    .where(and(eq(carts.userId, userId), eq(carts.status, 'open')));
  if (existing) return existing;
  await db
    .insert(carts)
    .values({ id: newId('cart', now), userId, createdAt: now, updatedAt: now })
    .onConflictDoNothing();
  const [created] = await db
    .select()
    .from(carts)
    .where(and(eq(carts.userId, userId), eq(carts.status, 'open')));
  return created!;
}

// One statement: the open cart created or touched (its partial unique index is the conflict target)
// as a data-modifying CTE, and the line added to; a total above the maximum changes no line and is
// refused. Built once (builtOnce): every value a placeholder.
const addLine = builtOnce((on) => {
  const now = slot('now', carts.updatedAt);
  const cart = on.$with('cart').as(
    on
      .insert(carts)
      .values({ id: slot('cartId', carts.id), userId: slot('userId', carts.userId), createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: carts.userId, targetWhere: sql`status = 'open'`, set: { updatedAt: now } })
      .returning({ id: carts.id }),
  );
  return on
    .with(cart)
    .insert(cartLines)
    .select(
      on
        .select({
          cartId: cart.id,
          productId: sql`${sql.placeholder('productId')}::text`.as('product_id'),
          quantity: sql`${sql.placeholder('quantity')}::int`.as('quantity'),
          addedAt: sql`${sql.placeholder('addedAt')}::timestamptz`.as('added_at'),
        })
        .from(cart),
    )
    .onConflictDoUpdate({
      target: [cartLines.cartId, cartLines.productId],
      set: { quantity: sql`cart_lines.quantity + excluded.quantity` },
      setWhere: sql`cart_lines.quantity + excluded.quantity <= ${MAX_QUANTITY}`,
    })
    .returning({ quantity: cartLines.quantity })
    .prepare('add_to_cart');
});

/** Adds `quantity` of a product (its price comes from the catalog, never from the request). */
export async function addToCart(
  db: Executor,
  userId: string,
  productId: string,
  quantityInput: unknown,
  now: Date,
  /** The product as the caller has just read it from the catalog (saves reading it again). */
  known?: Pick<Product, 'id' | 'archived'>,
): Promise<void> {
  const quantity = parseQuantity(quantityInput);
  const [product] =
    known?.id === productId ? [known] : await db.select().from(products).where(eq(products.id, productId));
  if (!product || product.archived) throw new DomainError('product.unavailable', { field: 'productId' });
  const added = await addLine(db).execute({
    cartId: newId('cart', now),
    userId,
    now,
    productId,
    quantity,
    addedAt: now.toISOString(),
  });
  if (added.length === 0) throw new DomainError('cart.quantity_invalid', { field: 'quantity', max: MAX_QUANTITY });
}

/** Sets a line's quantity (1..99); removing is a separate, explicit action. */
export async function setCartQuantity(
  db: Executor,
  userId: string,
  productId: string,
  quantityInput: unknown,
  now: Date,
): Promise<void> {
  const quantity = parseQuantity(quantityInput);
  const cart = await openCart(db, userId, now);
  await db
    .update(cartLines)
    .set({ quantity })
    .where(and(eq(cartLines.cartId, cart.id), eq(cartLines.productId, productId)));
}

/** Removes a product from the cart. */
export async function removeFromCart(db: Executor, userId: string, productId: string, now: Date): Promise<void> {
  const cart = await openCart(db, userId, now);
  await db.delete(cartLines).where(and(eq(cartLines.cartId, cart.id), eq(cartLines.productId, productId)));
}

/** A cart line with the product as the catalog shows it now. */
export interface CartLineView {
  readonly product: Product;
  readonly quantity: number;
}

/** The open cart as every cart and checkout page shows it: the cart, its lines and the chosen address. */
export interface CartView {
  readonly cart: Cart;
  readonly lines: CartLineView[];
  readonly address: Address | undefined;
}

/** The columns of a cart view's rows: one per line, in order (or one with no line, for an empty cart). */
export const cartViewColumns = { cart: carts, product: products, quantity: cartLines.quantity, address: addresses };

/** Turns the rows of `cartViewColumns` (joined as cartView joins them) into the view. */
export function cartViewOfRows(
  rows: readonly {
    cart: Cart;
    product: typeof products.$inferSelect | null;
    quantity: number | null;
    address: Address | null;
  }[],
): CartView {
  const lines: CartLineView[] = [];
  for (const r of rows)
    if (r.product && r.quantity !== null) lines.push({ product: toProduct(r.product), quantity: r.quantity });
  return { cart: rows[0]!.cart, lines, address: rows[0]!.address ?? undefined };
}

/** The open cart with its lines and products. */
export async function cartView(db: Executor, userId: string, now: Date): Promise<CartView> {
  // One statement for the cart, its lines with their products and the chosen address (every checkout
  // page shows them); a user without an open cart gets one created, empty.
  const rows = await db
    .select(cartViewColumns)
    .from(carts)
    .leftJoin(cartLines, eq(cartLines.cartId, carts.id))
    .leftJoin(products, eq(products.id, cartLines.productId))
    .leftJoin(addresses, eq(addresses.id, carts.addressId))
    .where(and(eq(carts.userId, userId), eq(carts.status, 'open')))
    .orderBy(asc(cartLines.addedAt), asc(products.id));
  if (rows.length === 0) return { cart: await openCart(db, userId, now), lines: [], address: undefined };
  return cartViewOfRows(rows);
}

/** What placing an order reads of a cart it has locked. */
export interface CartContents {
  readonly items: { productId: string; quantity: number }[];
  /** The lines' products as the catalog has them now. */
  readonly products: Map<string, Product>;
  /** The chosen address, only when it is this user's. */
  readonly address: Address | undefined;
  /** The chosen delivery method, active or not. */
  readonly delivery: DeliveryOption | undefined;
}

// Placing an order reads it: built once (builtOnce), the cart and its owner its values.
const contentsOf = builtOnce((on) =>
  on
    .select({ line: cartLines, product: products, address: addresses, method: deliveryMethods })
    .from(carts)
    .leftJoin(cartLines, eq(cartLines.cartId, carts.id))
    .leftJoin(products, eq(products.id, cartLines.productId))
    .leftJoin(addresses, and(eq(addresses.id, carts.addressId), eq(addresses.userId, slot('userId', addresses.userId))))
    .leftJoin(deliveryMethods, eq(deliveryMethods.id, carts.deliveryMethodId))
    .where(eq(carts.id, slot('cartId', carts.id)))
    .orderBy(asc(cartLines.addedAt), asc(cartLines.productId))
    .prepare('cart_contents'),
);

/**
 * The lines of a cart with their products, its address and its delivery method, in one statement.
 * Read after the cart's lock is taken (not in the locking statement), so that it sees every line
 * committed before the lock was granted.
 */
export async function cartContents(db: Executor, cartId: string, userId: string): Promise<CartContents> {
  const rows = await contentsOf(db).execute({ cartId, userId });
  const items: CartContents['items'] = [];
  const found = new Map<string, Product>();
  for (const { line, product } of rows) {
    if (!line) continue;
    items.push({ productId: line.productId, quantity: line.quantity });
    if (product) found.set(product.id, toProduct(product));
  }
  const method = rows[0]?.method;
  return {
    items,
    products: found,
    address: rows[0]?.address ?? undefined,
    delivery: method ? toDeliveryOption(method) : undefined,
  };
}

/** Number of items in the open cart (for the header badge). */
export async function cartCount(db: Executor, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`coalesce(sum(${cartLines.quantity}), 0)::int` })
    .from(cartLines)
    .innerJoin(carts, eq(carts.id, cartLines.cartId))
    .where(and(eq(carts.userId, userId), eq(carts.status, 'open')));
  return Number(row?.n ?? 0);
}

// The delivery step's one statement when the cart exists: built once (builtOnce).
const chooseActive = builtOnce((on) => {
  const methodId = slot('deliveryMethodId', carts.deliveryMethodId);
  const active = on
    .select({ id: deliveryMethods.id })
    .from(deliveryMethods)
    .where(and(eq(deliveryMethods.id, methodId), eq(deliveryMethods.active, true)));
  return on
    .update(carts)
    .set({ deliveryMethodId: methodId, updatedAt: slot('now', carts.updatedAt) })
    .where(and(eq(carts.userId, slot('userId', carts.userId)), eq(carts.status, 'open'), exists(active)))
    .returning({ id: carts.id })
    .prepare('choose_cart_delivery');
});

/**
 * Records the chosen delivery method on the open cart (only an active one). One statement when the
 * user has an open cart: the update is conditional on the method being active. When it changes
 * nothing, the method is read to say why, and a cart is opened if that was what was missing.
 */
export async function chooseCartDelivery(
  db: Executor,
  userId: string,
  deliveryMethodId: string,
  now: Date,
): Promise<void> {
  const chosen = await chooseActive(db).execute({ userId, deliveryMethodId, now });
  if (chosen.length > 0) return;
  const [method] = await db.select().from(deliveryMethods).where(eq(deliveryMethods.id, deliveryMethodId));
  if (!method || !method.active) throw new DomainError('checkout.incomplete', { field: 'deliveryMethodId' });
  await updateOpenCart(db, userId, { deliveryMethodId, updatedAt: now }, now);
}

// Sets columns on the user's open cart in one statement; only when there is none yet is it created first. Never its status: placing the order is the one writer of that.
async function updateOpenCart(
  db: Executor,
  userId: string,
  set: Partial<Pick<Cart, 'deliveryMethodId' | 'addressId' | 'updatedAt'>>,
  now: Date,
): Promise<void> {
  const updated = await db
    .update(carts)
    .set(set)
    .where(and(eq(carts.userId, userId), eq(carts.status, 'open')))
    .returning({ id: carts.id });
  if (updated.length > 0) return;
  const cart = await openCart(db, userId, now);
  await db.update(carts).set(set).where(eq(carts.id, cart.id));
}

/**
 * Saves a delivery address to the user's address book and selects it for the open cart, both or
 * neither. When the user has an open cart that is one statement: the cart's update is a
 * data-modifying CTE and the address is inserted only if it updated a cart (the cart's reference to
 * the address is checked at the statement's end, when the address is there). Without an open cart,
 * one is opened in a transaction with the address.
 */
export async function saveCartAddress(db: Executor, userId: string, address: FrozenAddress, now: Date): Promise<void> {
  const id = newId('adr', now);
  const chosen = db.$with('chosen').as(
    db
      .update(carts)
      .set({ addressId: id, updatedAt: now })
      .where(and(eq(carts.userId, userId), eq(carts.status, 'open')))
      .returning({ id: carts.id }),
  );
  const saved = await db
    .with(chosen)
    .insert(addresses)
    .select(
      db
        .select({
          id: sql`${id}`.as('id'),
          userId: sql`${userId}`.as('user_id'),
          fullName: sql`${address.fullName}`.as('full_name'),
          line1: sql`${address.line1}`.as('line1'),
          line2: sql`${address.line2}`.as('line2'),
          postalCode: sql`${address.postalCode}`.as('postal_code'),
          city: sql`${address.city}`.as('city'),
          country: sql`${address.country}`.as('country'),
          createdAt: sql`${now.toISOString()}::timestamptz`.as('created_at'),
        })
        .from(chosen),
    )
    .returning({ id: addresses.id });
  if (saved.length > 0) return;
  await db.transaction(async (tx) => {
    await tx.insert(addresses).values({ id, userId, ...address, createdAt: now });
    await updateOpenCart(tx, userId, { addressId: id, updatedAt: now }, now);
  });
}

// The address page reads it on every checkout: built once (builtOnce).
const latestAddress = builtOnce((on) =>
  on
    .select()
    .from(addresses)
    .where(eq(addresses.userId, slot('userId', addresses.userId)))
    .orderBy(sql`${addresses.createdAt} desc`)
    .limit(1)
    .prepare('latest_address'),
);

/** The user's most recent address, to prefill the form. */
export async function lastAddress(db: Executor, userId: string): Promise<Address | undefined> {
  const [row] = await latestAddress(db).execute({ userId });
  return row;
}
