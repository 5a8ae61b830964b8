// Products and delivery methods. Products are archived, never deleted; a price edit changes the
// catalog only — order lines carry their own frozen price.
import { asc, eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { money, parseCurrency, type Money } from '../../core/money.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { CatalogProduct, DeliveryOption } from '../domain/checkout.ts';
import { appendAudit } from './audit.ts';
import { deliveryMethods, products } from './tables.ts';

export type ProductRow = typeof products.$inferSelect;

/** A product row with its price as Money. */
export interface Product extends CatalogProduct {
  readonly description: string;
  readonly imageHue: number;
  readonly updatedAt: Date;
}

/** Maps a row to the domain's product. */
export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    imageHue: row.imageHue,
    price: money(row.priceMinor, parseCurrency(row.currency)),
    archived: row.archived,
    updatedAt: row.updatedAt,
  };
}

/** Products for sale (or all, archived too, for staff), oldest first. */
export async function listProducts(db: Executor, options: { includeArchived?: boolean } = {}): Promise<Product[]> {
  const q = db.select().from(products);
  const rows = options.includeArchived
    ? await q.orderBy(asc(products.createdAt), asc(products.id))
    : await q.where(eq(products.archived, false)).orderBy(asc(products.createdAt), asc(products.id));
  return rows.map(toProduct);
}

// Every product page and add to cart reads it: built once (builtOnce).
const productById = builtOnce((on) =>
  on
    .select()
    .from(products)
    .where(eq(products.id, slot('id', products.id)))
    .prepare('product_by_id'),
);

/** One product, archived or not. */
export async function getProduct(db: Executor, id: string): Promise<Product | undefined> {
  const [row] = await productById(db).execute({ id });
  return row ? toProduct(row) : undefined;
}

/** Adds a product to the catalog. */
export async function createProduct(
  db: Executor,
  input: { name: string; description: string; price: Money; imageHue?: number },
  actor: string,
  now: Date,
): Promise<Product> {
  if (input.price.minor <= 0n) throw new DomainError('money.invalid', { field: 'price' });
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(products)
      .values({
        id: newId('prd', now),
        name: input.name,
        description: input.description,
        priceMinor: input.price.minor,
        currency: input.price.currency,
        imageHue: input.imageHue ?? Math.floor(Math.random() * 360),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await appendAudit(
      tx,
      {
        actor,
        action: 'product.created',
        subject: row!.id,
        data: { priceMinor: input.price.minor.toString(), currency: input.price.currency },
      },
      now,
    );
    return toProduct(row!);
  });
}

/** Changes a product's catalog price; existing orders keep the price they were sold at. */
export async function changeProductPrice(
  db: Executor,
  id: string,
  price: Money,
  actor: string,
  now: Date,
): Promise<Product> {
  if (price.minor <= 0n) throw new DomainError('money.invalid', { field: 'price' });
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(products).where(eq(products.id, id)).for('update');
    if (!before) throw new DomainError('not_found');
    // One currency per shop catalog keeps carts single-currency; a currency change is a new product.
    if (before.currency !== price.currency) throw new DomainError('money.currency_mismatch', { field: 'price' });
    const [row] = await tx
      .update(products)
      .set({ priceMinor: price.minor, updatedAt: now })
      .where(eq(products.id, id))
      .returning();
    await appendAudit(
      tx,
      {
        actor,
        action: 'product.price_changed',
        subject: id,
        data: { from: before.priceMinor.toString(), to: price.minor.toString() },
      },
      now,
    );
    return toProduct(row!);
  });
}

/** Archives a product: gone from the catalog and carts can no longer order it; old orders still show it. */
export async function archiveProduct(db: Executor, id: string, actor: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const updated = await tx
      .update(products)
      .set({ archived: true, updatedAt: now })
      .where(eq(products.id, id))
      .returning({ id: products.id });
    if (updated.length === 0) throw new DomainError('not_found');
    await appendAudit(tx, { actor, action: 'product.archived', subject: id }, now);
  });
}

/** Delivery methods, in display order (inactive ones only when asked). */
// The delivery options as the checkout pages show them, read at most once per few seconds per
// database: they change only with demo data or a migration, and the price charged is always read again
// inside the order's transaction (placeOrder, changeOrderDelivery), never from this copy.
const DISPLAY_TTL_MS = 5_000;
const displayed = new WeakMap<object, { at: number; methods: Promise<DeliveryOption[]> }>();

/** listDeliveryMethods for display only (pages), cached for a few seconds. */
export function deliveryMethodsForDisplay(db: Executor): Promise<DeliveryOption[]> {
  const hit = displayed.get(db);
  if (hit && Date.now() - hit.at < DISPLAY_TTL_MS) return hit.methods;
  const methods = listDeliveryMethods(db);
  displayed.set(db, { at: Date.now(), methods });
  methods.catch(() => displayed.delete(db));
  return methods;
}

export async function listDeliveryMethods(
  db: Executor,
  options: { includeInactive?: boolean } = {},
): Promise<DeliveryOption[]> {
  const rows = await db.select().from(deliveryMethods).orderBy(asc(deliveryMethods.position));
  return rows.filter((r) => options.includeInactive || r.active).map(toDeliveryOption);
}

/** Maps a delivery method's row to the domain's option, its price as Money. */
export function toDeliveryOption(r: typeof deliveryMethods.$inferSelect): DeliveryOption {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    price: money(r.priceMinor, parseCurrency(r.currency)),
    active: r.active,
  };
}
