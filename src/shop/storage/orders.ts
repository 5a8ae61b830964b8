// Orders and invoices as stored: rows and the queries the pages need. What changes them lives in
// commands/ (place-order, invoice-for-payment, change-order-delivery, invoice-transition).
import { and, desc, eq, inArray } from 'drizzle-orm';
import { money, parseCurrency, type Money } from '../../core/money.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { InvoiceStatus } from '../domain/invoice.machine.ts';
import { finishPage, keyOf, keysetOrder, keysetWhere, type ListPage, type ListQuery } from './keyset.ts';
import { invoices, orderLines, orders } from './tables.ts';

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

/** The order made from a given cart of this user (a repeated "Pay now" finds it). */
export async function orderForCart(db: Executor, userId: string, cartId: string): Promise<OrderRow | undefined> {
  const [row] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.cartId, cartId), eq(orders.userId, userId)));
  return row;
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
  const invs = await db
    .select()
    .from(invoices)
    .where(eq(invoices.orderId, orderId))
    .orderBy(desc(invoices.createdAt), desc(invoices.id));
  return { order, lines, invoices: invs };
}

// Read on every watcher's join and invoice page: built once (builtOnce), the id its one value.
const invoiceById = builtOnce((on) =>
  on
    .select()
    .from(invoices)
    .where(eq(invoices.id, slot('id', invoices.id)))
    .prepare('invoice_by_id'),
);

/** An invoice row, or undefined; the caller checks who may see it. */
export async function getInvoice(db: Executor, invoiceId: string): Promise<InvoiceRow | undefined> {
  const [row] = await invoiceById(db).execute({ id: invoiceId });
  return row;
}

/**
 * One customer's orders, a page at a time, newest first (keyset by creation time and id, never an
 * offset), each with its latest invoice and how many it has.
 */
export async function listOrders(
  db: Executor,
  userId: string,
  query: ListQuery,
): Promise<ListPage<{ order: OrderRow; latestInvoice: InvoiceRow | undefined; invoiceCount: number }>> {
  const cols = { at: orders.createdAt, id: orders.id };
  const rows = await db
    .select()
    .from(orders)
    .where(and(eq(orders.userId, userId), keysetWhere(cols, query)))
    .orderBy(...keysetOrder(cols, query))
    .limit(query.limit + 1);
  const page = finishPage(rows, query, (o) => keyOf(o.createdAt, o.id));
  if (page.rows.length === 0) return { ...page, rows: [] };
  const invs = await db
    .select()
    .from(invoices)
    .where(
      inArray(
        invoices.orderId,
        page.rows.map((o) => o.id),
      ),
    )
    .orderBy(desc(invoices.createdAt), desc(invoices.id));
  const latest = new Map<string, InvoiceRow>();
  const count = new Map<string, number>();
  for (const inv of invs) {
    if (!latest.has(inv.orderId)) latest.set(inv.orderId, inv);
    count.set(inv.orderId, (count.get(inv.orderId) ?? 0) + 1);
  }
  return {
    ...page,
    rows: page.rows.map((order) => ({
      order,
      latestInvoice: latest.get(order.id),
      invoiceCount: count.get(order.id) ?? 0,
    })),
  };
}

/** Orders paid or refunded, most recently changed first (staff refund overview). */
export async function paidOrders(db: Executor, limit = 100): Promise<OrderRow[]> {
  return db
    .select()
    .from(orders)
    .where(inArray(orders.status, ['paid', 'refunded']))
    .orderBy(desc(orders.updatedAt))
    .limit(limit);
}
