// Placing an order: the user's open cart frozen into priced lines, in one transaction.
import { and, eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Executor } from '../../platform/db/database.ts';
import { chooseDelivery, freezeLines, orderTotals, type FrozenLine } from '../domain/checkout.ts';
import { appendAudit } from '../storage/audit.ts';
import { cartContents } from '../storage/cart.ts';
import { cartMachine } from '../domain/cart.machine.ts';
import { recordOrderStatusChange } from '../storage/order-status-outbox.ts';
import type { OrderRow } from '../storage/orders.ts';
import { carts, orderLines, orders } from '../storage/tables.ts';

/**
 * Turns the user's open cart into an order with frozen lines, at catalog prices read now. The cart
 * is marked ordered in the same transaction, so the same cart can never become two orders.
 */
export async function placeOrder(db: Executor, userId: string, now: Date): Promise<OrderRow> {
  return db.transaction((tx) => placeOrderIn(tx, userId, now));
}

/** placeOrder's work inside the caller's transaction (Pay now places, invoices and opens an attempt in one). */
export async function placeOrderIn(tx: Executor, userId: string, now: Date): Promise<OrderRow> {
  const [cart] = await tx
    .select()
    .from(carts)
    .where(and(eq(carts.userId, userId), eq(carts.status, 'open')))
    .for('update');
  if (!cart) throw new DomainError('cart.empty');
  const { items, products, address, delivery: chosen } = await cartContents(tx, cart.id, userId);
  if (items.length === 0) throw new DomainError('cart.empty');
  if (!cart.deliveryMethodId) throw new DomainError('checkout.incomplete', { field: 'deliveryMethodId' });
  if (!cart.addressId) throw new DomainError('checkout.incomplete', { field: 'address' });
  if (!address) throw new DomainError('checkout.incomplete', { field: 'address' });

  const lines = freezeLines(items, products);
  const delivery = chooseDelivery(cart.deliveryMethodId, chosen ? [chosen] : []);
  const totals = orderTotals(lines, delivery.price);

  const [order] = await tx
    .insert(orders)
    .values({
      id: newId('ord', now),
      userId,
      cartId: cart.id,
      status: 'awaiting_payment',
      currency: totals.currency,
      subtotalMinor: totals.subtotal.minor,
      deliveryMethodId: delivery.id,
      deliveryName: delivery.name,
      deliveryMinor: totals.delivery.minor,
      totalMinor: totals.total.minor,
      address: {
        fullName: address.fullName,
        line1: address.line1,
        line2: address.line2,
        postalCode: address.postalCode,
        city: address.city,
        country: address.country,
      },
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  await tx.insert(orderLines).values(
    lines.map((line: FrozenLine, position) => ({
      id: newId('line', now),
      orderId: order!.id,
      productId: line.productId,
      position,
      name: line.name,
      unitPriceMinor: line.unitPrice.minor,
      currency: line.unitPrice.currency,
      quantity: line.quantity,
      lineTotalMinor: line.lineTotal.minor,
    })),
  );
  await tx
    .update(carts)
    .set({ status: cartMachine.apply(cart.status, 'order').state, updatedAt: now })
    .where(eq(carts.id, cart.id));
  await recordOrderStatusChange(
    tx,
    {
      orderId: order!.id,
      invoiceId: null,
      from: null,
      to: 'awaiting_payment',
      totalMinor: order!.totalMinor,
      currency: order!.currency,
    },
    now,
  );
  await appendAudit(
    tx,
    {
      actor: userId,
      action: 'order.placed',
      subject: order!.id,
      data: { totalMinor: order!.totalMinor.toString(), currency: order!.currency },
    },
    now,
  );
  return order!;
}
