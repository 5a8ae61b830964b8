// Orders and invoices: placing an order freezes the cart into priced lines; "Pay now" reuses the
// order's valid invoice or issues a new one; changing an unpaid order voids its open invoice and
// issues a new one; every invoice status change moves the order through the one rule and, when the
// order's status changes, writes the outbox event and the audit entry in the same transaction.
import { and, desc, eq, inArray } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { money, parseCurrency, type Money } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import { chooseDelivery, freezeLines, orderTotals, type FrozenLine } from '../domain/checkout.ts';
import { invoiceMachine, isValidStatus, type InvoiceEvent, type InvoiceStatus } from '../domain/invoice.machine.ts';
import { invoiceTerms, planInvoice } from '../domain/invoice.ts';
import { isChangeable } from '../domain/order.machine.ts';
import { followInvoice } from '../domain/order-status.rule.ts';
import { appendAudit } from './audit.ts';
import { listDeliveryMethods, productsById } from './catalog.ts';
import { recordOrderStatusChange } from './order-status-outbox.ts';
import { addresses, cartLines, carts, invoices, orderLines, orders, users } from './tables.ts';

export type OrderRow = typeof orders.$inferSelect;
export type OrderLineRow = typeof orderLines.$inferSelect;
export type InvoiceRow = typeof invoices.$inferSelect;

/** An invoice row's amount as Money. */
export function invoiceAmount(row: Pick<InvoiceRow, 'amountMinor' | 'currency'>): Money {
  return money(row.amountMinor, parseCurrency(row.currency));
}

/** The status to show: an open invoice past its expiry is expired even before a job closes it. */
export function shownInvoiceStatus(row: Pick<InvoiceRow, 'status' | 'expiresAt'>, now: Date): InvoiceStatus {
  return row.status === 'open' && now.getTime() >= row.expiresAt.getTime() ? 'expired' : row.status;
}

/**
 * Turns the user's open cart into an order with frozen lines, at catalog prices read now. The cart
 * is marked ordered in the same transaction, so the same cart can never become two orders.
 */
export async function placeOrder(db: Executor, userId: string, now: Date): Promise<OrderRow> {
  return db.transaction(async (tx) => {
    const [cart] = await tx.select().from(carts).where(and(eq(carts.userId, userId), eq(carts.status, 'open'))).for('update');
    if (!cart) throw new DomainError('cart.empty');
    const items = await tx.select().from(cartLines).where(eq(cartLines.cartId, cart.id)).orderBy(cartLines.addedAt, cartLines.productId);
    if (items.length === 0) throw new DomainError('cart.empty');
    if (!cart.deliveryMethodId) throw new DomainError('checkout.incomplete', { field: 'deliveryMethodId' });
    if (!cart.addressId) throw new DomainError('checkout.incomplete', { field: 'address' });
    const [address] = await tx.select().from(addresses).where(and(eq(addresses.id, cart.addressId), eq(addresses.userId, userId)));
    if (!address) throw new DomainError('checkout.incomplete', { field: 'address' });

    const catalog = await productsById(tx, items.map((i) => i.productId));
    const lines = freezeLines(items, catalog);
    const delivery = chooseDelivery(cart.deliveryMethodId, await listDeliveryMethods(tx));
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
        address: { fullName: address.fullName, line1: address.line1, line2: address.line2, postalCode: address.postalCode, city: address.city, country: address.country },
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await tx.insert(orderLines).values(lines.map((line: FrozenLine, position) => ({
      id: newId('line', now),
      orderId: order!.id,
      productId: line.productId,
      position,
      name: line.name,
      unitPriceMinor: line.unitPrice.minor,
      currency: line.unitPrice.currency,
      quantity: line.quantity,
      lineTotalMinor: line.lineTotal.minor,
    })));
    await tx.update(carts).set({ status: 'ordered', updatedAt: now }).where(eq(carts.id, cart.id));
    await recordOrderStatusChange(tx, { orderId: order!.id, invoiceId: null, from: null, to: 'awaiting_payment', totalMinor: order!.totalMinor, currency: order!.currency }, now);
    await appendAudit(tx, { actor: userId, action: 'order.placed', subject: order!.id, data: { totalMinor: order!.totalMinor.toString(), currency: order!.currency } }, now);
    return order!;
  });
}

/** The order made from a given cart of this user (a repeated "Pay now" finds it). */
export async function orderForCart(db: Executor, userId: string, cartId: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(and(eq(orders.cartId, cartId), eq(orders.userId, userId)));
  return row;
}

/**
 * Moves an invoice by one event of its machine and makes the order follow through the one rule.
 * The single writer of invoice and order status; the gateway's webhook intake calls it with 'pay'.
 */
export async function applyInvoiceEvent(
  tx: Executor,
  invoiceId: string,
  event: InvoiceEvent,
  actor: string,
  now: Date,
  /** The invoice's row when the caller has already read it FOR UPDATE in this transaction. */
  locked?: InvoiceRow,
): Promise<{ invoice: InvoiceRow; order: OrderRow }> {
  const [invoice] = locked?.id === invoiceId ? [locked] : await tx.select().from(invoices).where(eq(invoices.id, invoiceId)).for('update');
  if (!invoice) throw new DomainError('invoice.unknown');
  const next = invoiceMachine.apply(invoice.status, event).state;
  const [updatedInvoice] = await tx
    .update(invoices)
    .set({ status: next, valid: isValidStatus(next), closedAt: next === 'open' ? null : (invoice.closedAt ?? now), paidAt: next === 'paid' ? now : invoice.paidAt })
    .where(eq(invoices.id, invoiceId))
    .returning();
  const [order] = await tx.select().from(orders).where(eq(orders.id, invoice.orderId)).for('update');
  const follow = followInvoice(order!.status, next);
  let updatedOrder = order!;
  if (follow.changed) {
    [updatedOrder] = (await tx.update(orders).set({ status: follow.status, updatedAt: now }).where(eq(orders.id, order!.id)).returning()) as [OrderRow];
    await recordOrderStatusChange(tx, { orderId: order!.id, invoiceId, from: order!.status, to: follow.status, totalMinor: order!.totalMinor, currency: order!.currency }, now);
  }
  await appendAudit(tx, { actor, action: `invoice.${event}`, subject: invoiceId, data: { from: invoice.status, to: next, orderId: order!.id, orderStatus: follow.status } }, now);
  return { invoice: updatedInvoice!, order: updatedOrder };
}

async function issueInvoice(tx: Executor, order: OrderRow, actor: string, now: Date, ttlSeconds: number): Promise<InvoiceRow> {
  const terms = invoiceTerms({ orderId: order.id, ownerId: order.userId, total: money(order.totalMinor, parseCurrency(order.currency)), now, ttlSeconds });
  const [row] = await tx
    .insert(invoices)
    .values({
      id: newId('inv', now),
      orderId: terms.orderId,
      orderVersion: order.version,
      userId: terms.ownerId,
      amountMinor: terms.amount.minor,
      currency: terms.amount.currency,
      status: 'open',
      valid: true,
      createdAt: terms.createdAt,
      expiresAt: terms.expiresAt,
    })
    .returning();
  await appendAudit(tx, { actor, action: 'invoice.issued', subject: row!.id, data: { orderId: order.id, amountMinor: row!.amountMinor.toString(), currency: row!.currency } }, now);
  return row!;
}

async function openInvoiceFor(tx: Executor, orderId: string): Promise<InvoiceRow | undefined> {
  const [row] = await tx.select().from(invoices).where(and(eq(invoices.orderId, orderId), eq(invoices.status, 'open'))).for('update');
  return row;
}

/**
 * "Pay now": the order's valid invoice, reused when still open, unexpired and for the order's total;
 * otherwise the old one is expired or voided and a new one issued. Only the owner may pay.
 */
export async function invoiceForPayment(db: Executor, orderId: string, userId: string, now: Date, ttlSeconds: number): Promise<InvoiceRow> {
  return db.transaction(async (tx) => {
    const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
    if (!order || order.userId !== userId) throw new DomainError('access.denied');
    if (order.status !== 'awaiting_payment') throw new DomainError('order.not_payable', { status: order.status });
    const open = await openInvoiceFor(tx, orderId);
    const plan = planInvoice(
      open && { id: open.id, status: open.status, amount: invoiceAmount(open), expiresAt: open.expiresAt },
      money(order.totalMinor, parseCurrency(order.currency)),
      now,
    );
    if (plan.kind === 'reuse') return open!;
    // Closing the old invoice may move the order; applyInvoiceEvent returns it as it now is.
    const current = plan.close ? (await applyInvoiceEvent(tx, plan.close.invoiceId, plan.close.event, userId, now)).order : order;
    return issueInvoice(tx, current, userId, now, ttlSeconds);
  });
}

/**
 * Changes an unpaid order's delivery method: totals are recomputed from the frozen lines, the open
 * invoice (immutable) is voided and a new one issued for the new total.
 */
export async function changeOrderDelivery(
  db: Executor,
  orderId: string,
  userId: string,
  deliveryMethodId: string,
  now: Date,
  ttlSeconds: number,
): Promise<{ order: OrderRow; invoice: InvoiceRow | undefined }> {
  return db.transaction(async (tx) => {
    const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
    if (!order || order.userId !== userId) throw new DomainError('access.denied');
    if (!isChangeable(order.status)) throw new DomainError('order.not_changeable', { status: order.status });
    const delivery = chooseDelivery(deliveryMethodId, await listDeliveryMethods(tx));
    const lines = await tx.select().from(orderLines).where(eq(orderLines.orderId, orderId)).orderBy(orderLines.position);
    const frozen = lines.map((l) => {
      const unitPrice = money(l.unitPriceMinor, parseCurrency(l.currency));
      return { productId: l.productId, name: l.name, unitPrice, quantity: l.quantity, lineTotal: money(l.lineTotalMinor, unitPrice.currency) };
    });
    const totals = orderTotals(frozen, delivery.price);
    const open = await openInvoiceFor(tx, orderId);
    if (open) await applyInvoiceEvent(tx, open.id, 'void', userId, now);
    const [updated] = await tx
      .update(orders)
      .set({ deliveryMethodId: delivery.id, deliveryName: delivery.name, deliveryMinor: totals.delivery.minor, subtotalMinor: totals.subtotal.minor, totalMinor: totals.total.minor, version: order.version + 1, updatedAt: now })
      .where(eq(orders.id, orderId))
      .returning();
    await appendAudit(tx, { actor: userId, action: 'order.revised', subject: orderId, data: { deliveryMethodId: delivery.id, totalMinor: totals.total.minor.toString() } }, now);
    const invoice = open ? await issueInvoice(tx, updated!, userId, now, ttlSeconds) : undefined;
    return { order: updated!, invoice };
  });
}

/** An order with its frozen lines and every invoice ever issued for it (newest first). */
export interface OrderDetail {
  readonly order: OrderRow;
  readonly lines: OrderLineRow[];
  readonly invoices: InvoiceRow[];
}

/** Reads an order with lines and invoices; the caller checks who may see it. */
export async function orderDetail(db: Executor, orderId: string): Promise<OrderDetail | undefined> {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!order) return undefined;
  const lines = await db.select().from(orderLines).where(eq(orderLines.orderId, orderId)).orderBy(orderLines.position);
  const invs = await db.select().from(invoices).where(eq(invoices.orderId, orderId)).orderBy(desc(invoices.createdAt), desc(invoices.id));
  return { order, lines, invoices: invs };
}

/** An invoice row, or undefined; the caller checks who may see it. */
export async function getInvoice(db: Executor, invoiceId: string): Promise<InvoiceRow | undefined> {
  const [row] = await db.select().from(invoices).where(eq(invoices.id, invoiceId));
  return row;
}

/** Orders (of one user, or all for staff), newest first, each with its latest invoice. */
export async function listOrders(db: Executor, options: { userId?: string } = {}): Promise<Array<{ order: OrderRow; latestInvoice: InvoiceRow | undefined; email: string }>> {
  const q = db.select({ order: orders, email: users.email }).from(orders).innerJoin(users, eq(users.id, orders.userId));
  const rows = await (options.userId ? q.where(eq(orders.userId, options.userId)) : q).orderBy(desc(orders.createdAt), desc(orders.id)).limit(200);
  if (rows.length === 0) return [];
  const invs = await db.select().from(invoices).where(inArray(invoices.orderId, rows.map((r) => r.order.id))).orderBy(desc(invoices.createdAt), desc(invoices.id));
  const latest = new Map<string, InvoiceRow>();
  for (const inv of invs) if (!latest.has(inv.orderId)) latest.set(inv.orderId, inv);
  return rows.map((r) => ({ order: r.order, email: r.email, latestInvoice: latest.get(r.order.id) }));
}

/** Every invoice, newest first (staff console). */
export async function listInvoices(db: Executor): Promise<Array<InvoiceRow & { email: string }>> {
  const rows = await db.select({ invoice: invoices, email: users.email }).from(invoices).innerJoin(users, eq(users.id, invoices.userId)).orderBy(desc(invoices.createdAt), desc(invoices.id)).limit(200);
  return rows.map((r) => ({ ...r.invoice, email: r.email }));
}
