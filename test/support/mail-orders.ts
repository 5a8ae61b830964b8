// Test data for the mail crash matrix: a paid order of the demo customer, written straight into the
// shop's tables (as the payment path leaves it), with no mail recorded yet.
import { eq } from 'drizzle-orm';
import { newId } from '../../src/core/ids.ts';
import type { Database } from '../../src/platform/db/database.ts';
import {
  carts,
  deliveryMethods,
  invoices,
  orderLines,
  orders,
  products,
  users,
} from '../../src/shop/storage/tables.ts';

/** A paid order (2 × the first product, the first delivery method) and its paid invoice. */
export async function paidOrderWithoutMail(
  database: Database,
): Promise<{ orderId: string; invoiceId: string; totalMinor: bigint }> {
  const now = new Date();
  const db = database.db;
  const [user] = await db.select().from(users).where(eq(users.email, 'customer@shop.test'));
  const [product] = await db.select().from(products).limit(1);
  const [delivery] = await db.select().from(deliveryMethods).limit(1);
  const cartId = newId('cart', now);
  await db.insert(carts).values({ id: cartId, userId: user!.id, status: 'ordered', createdAt: now, updatedAt: now });
  const subtotal = product!.priceMinor * 2n;
  const total = subtotal + delivery!.priceMinor;
  const orderId = newId('ord', now);
  await db.insert(orders).values({
    id: orderId,
    userId: user!.id,
    cartId,
    status: 'paid',
    currency: product!.currency,
    subtotalMinor: subtotal,
    deliveryMethodId: delivery!.id,
    deliveryName: delivery!.name,
    deliveryMinor: delivery!.priceMinor,
    totalMinor: total,
    address: {
      fullName: 'Ada Lovelace',
      line1: '1 Analytical St',
      line2: '',
      postalCode: '10115',
      city: 'Berlin',
      country: 'DE',
    },
    createdAt: now,
    updatedAt: now,
  });
  await db.insert(orderLines).values({
    id: newId('line', now),
    orderId,
    productId: product!.id,
    position: 0,
    name: product!.name,
    unitPriceMinor: product!.priceMinor,
    currency: product!.currency,
    quantity: 2,
    lineTotalMinor: subtotal,
  });
  const invoiceId = newId('inv', now);
  await db.insert(invoices).values({
    id: invoiceId,
    orderId,
    orderVersion: 1,
    userId: user!.id,
    amountMinor: total,
    currency: product!.currency,
    status: 'paid',
    valid: false,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 1800_000),
    closedAt: now,
    paidAt: now,
  });
  return { orderId, invoiceId, totalMinor: total };
}
