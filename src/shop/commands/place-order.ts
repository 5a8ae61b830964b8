// Placing an order: the user's open cart frozen into priced lines, in one transaction.
import { and, eq, sql, type SQLWrapper } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import { rows, type Executor } from '../../platform/db/database.ts';
import { jobInsert } from '../../platform/jobs/enqueue.ts';
import { chooseDelivery, freezeLines, orderTotals, type FrozenLine } from '../domain/checkout.ts';
import { announceAppend, auditInsert, type AuditInput } from '../storage/audit.ts';
import { cartContents } from '../storage/cart.ts';
import { cartMachine } from '../domain/cart.machine.ts';
import { orderStatusChange } from '../storage/order-status-outbox.ts';
import type { OrderRow } from '../storage/orders.ts';
import { carts, orderLines, orders } from '../storage/tables.ts';

/**
 * Turns the user's open cart into an order with frozen lines, at catalog prices read now. The cart
 * is marked ordered in the same transaction, so the same cart can never become two orders.
 */
export async function placeOrder(db: Executor, userId: string, now: Date): Promise<OrderRow> {
  return db.transaction((tx) => placeOrderIn(tx, userId, now));
}

/** A new order as placing writes it: every column but its number, which the database gives. */
export type NewOrder = Omit<OrderRow, 'number'>;

/** A row written with the order in the same statement (Pay now's invoice and attempt), and its audit entry. */
export interface WrittenWithOrder {
  readonly write: SQLWrapper;
  readonly audit: AuditInput;
}

/**
 * placeOrder's work inside the caller's transaction: the open cart locked and read, then ONE
 * statement writes the order, its lines, the cart marked ordered, the order-status event and its
 * job, the audit entries, and what `along` adds for the order (Pay now's invoice and attempt), so that
 * none of them exists without the others and the order costs one round trip, not one per row.
 */
export async function placeOrderIn(tx: Executor, userId: string, now: Date): Promise<OrderRow> {
  return (await placeOrderWith(tx, userId, now, () => ({ writes: [], with: undefined }))).order;
}

// The user's open cart, locked: built once (builtOnce), the user its one value.
const openCartLocked = builtOnce((on) =>
  on
    .select()
    .from(carts)
    .where(and(eq(carts.userId, slot('userId', carts.userId)), eq(carts.status, 'open')))
    .for('update')
    .prepare('open_cart_locked'),
);

/** placeOrderIn with rows `along` makes for the new order written in the same statement; returns what it made. */
export async function placeOrderWith<T>(
  tx: Executor,
  userId: string,
  now: Date,
  along: (order: NewOrder) => { writes: readonly WrittenWithOrder[]; with: T },
): Promise<{ order: OrderRow; with: T }> {
  const [cart] = await openCartLocked(tx).execute({ userId });
  if (!cart) throw new DomainError('cart.empty');
  // A statement of its own, after the lock: it must see every line committed before the lock was granted.
  const { items, products, address, delivery: chosen } = await cartContents(tx, cart.id, userId);
  if (items.length === 0) throw new DomainError('cart.empty');
  if (!cart.deliveryMethodId) throw new DomainError('checkout.incomplete', { field: 'deliveryMethodId' });
  if (!cart.addressId) throw new DomainError('checkout.incomplete', { field: 'address' });
  if (!address) throw new DomainError('checkout.incomplete', { field: 'address' });

  const lines = freezeLines(items, products);
  const delivery = chooseDelivery(cart.deliveryMethodId, chosen ? [chosen] : []);
  const totals = orderTotals(lines, delivery.price);
  const order: NewOrder = {
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
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const status = orderStatusChange(
    tx,
    {
      orderId: order.id,
      invoiceId: null,
      from: null,
      to: order.status,
      totalMinor: order.totalMinor,
      currency: order.currency,
    },
    now,
  );
  const made = along(order);
  const extra = made.writes;
  const placedAudit: AuditInput = {
    actor: userId,
    action: 'order.placed',
    subject: order.id,
    data: { totalMinor: order.totalMinor.toString(), currency: order.currency },
  };
  // Every write's reference to the order is checked at the statement's end, when the order is there.
  const written = sql.join(
    extra.map((w, i) => sql`, ${sql.raw(`along_${i}`)} as (${w.write.getSQL()})`),
    sql``,
  );
  const [placed] = await rows<{ number: number }>(
    tx,
    sql`with placed as (${tx.insert(orders).values(order).returning({ number: orders.number }).getSQL()}),
      lines as (${tx
        .insert(orderLines)
        .values(
          lines.map((line: FrozenLine, position) => ({
            id: newId('line', now),
            orderId: order.id,
            productId: line.productId,
            position,
            name: line.name,
            unitPriceMinor: line.unitPrice.minor,
            currency: line.unitPrice.currency,
            quantity: line.quantity,
            lineTotalMinor: line.lineTotal.minor,
          })),
        )
        .getSQL()}),
      ordered as (${tx
        .update(carts)
        .set({ status: cartMachine.apply(cart.status, 'order').state, updatedAt: now })
        .where(eq(carts.id, cart.id))
        .getSQL()}),
      status_event as (${status.event.getSQL()}),
      status_job as (${jobInsert(status.job, { now: () => now }, sql`select 1 from status_event`).query}),
      audit as (${auditInsert(tx, [placedAudit, ...extra.map((w) => w.audit)], now).getSQL()})${written}
      select number from placed`,
  );
  announceAppend(tx);
  return { order: { ...order, number: Number(placed!.number) }, with: made.with };
}
