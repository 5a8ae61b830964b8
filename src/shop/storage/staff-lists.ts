// The staff console's lists of orders, invoices and accounts, paged by key (keyset.ts), searched and
// filtered in the database. Search text is compared literally (strpos, equality), never as a LIKE
// pattern, so `%`, `_` and quotes in it mean themselves; every value travels as a bound parameter.
import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import type { InvoiceStatus } from '../domain/invoice.machine.ts';
import type { OrderStatus } from '../domain/order.machine.ts';
import { finishPage, keyOf, keysetOrder, keysetWhere, type ListPage, type ListQuery } from './keyset.ts';
import type { InvoiceRow, OrderRow } from './orders.ts';
import {
  containsText,
  invoicesNamed,
  orderNumberOf,
  ordersNamed,
  resolved,
  searchTargets,
  type SearchTargets,
} from './staff-search.ts';
import { invoices, orders, paymentAttempts, users } from './tables.ts';

export { containsText, orderNumberOf };

/** Orders matching one search box: customer e-mail (part of it), order id or number, invoice id, gateway session id. */
function orderSearch(q: string): SQL {
  const n = orderNumberOf(q);
  return or(
    containsText(users.email, q),
    eq(orders.id, q),
    n === undefined ? undefined : eq(orders.number, n),
    sql`exists (select 1 from ${invoices} where ${invoices.orderId} = ${orders.id} and ${invoices.id} = ${q})`,
    sql`exists (select 1 from ${paymentAttempts} join ${invoices} on ${invoices.id} = ${paymentAttempts.invoiceId}
      where ${invoices.orderId} = ${orders.id} and ${paymentAttempts.gatewaySessionId} = ${q})`,
  )!;
}

/** A resolved search's condition, or the row-by-row one when too many customers match its e-mail part. */
export function resolvedOr(
  t: SearchTargets,
  named: (t: SearchTargets & { customerIds: string[] }) => SQL,
  rowByRow: SQL | undefined,
): SQL | undefined {
  return resolved(t) ? named(t) : rowByRow;
}

const ORDER_KEY = { at: orders.createdAt, id: orders.id };

/** A page of every customer's orders, newest first, with the customer's e-mail and name. */
export async function staffOrdersPage(
  db: Executor,
  query: ListQuery,
): Promise<ListPage<{ order: OrderRow; email: string; name: string }>> {
  const search = query.q ? resolvedOr(await searchTargets(db, query.q), ordersNamed, orderSearch(query.q)) : undefined;
  const rows = await db
    .select({ order: orders, email: users.email, name: users.name })
    .from(orders)
    .innerJoin(users, eq(users.id, orders.userId))
    .where(
      and(
        keysetWhere(ORDER_KEY, query),
        query.status ? eq(orders.status, query.status as OrderStatus) : undefined,
        search,
      ),
    )
    .orderBy(...keysetOrder(ORDER_KEY, query))
    .limit(query.limit + 1);
  return finishPage(rows, query, (r) => keyOf(r.order.createdAt, r.order.id));
}

const INVOICE_KEY = { at: invoices.createdAt, id: invoices.id };

/** The invoice status as shown: an open invoice past its expiry counts as expired. */
function invoiceStatusIs(status: string, now: Date): SQL {
  const expired = sql`${invoices.expiresAt} <= ${now.toISOString()}::timestamptz`;
  if (status === 'open') return and(eq(invoices.status, 'open'), sql`not (${expired})`)!;
  if (status === 'expired') return or(eq(invoices.status, 'expired'), and(eq(invoices.status, 'open'), expired))!;
  return eq(invoices.status, status as InvoiceStatus);
}

/** A page of every invoice, newest first, with its owner's e-mail. */
export async function staffInvoicesPage(
  db: Executor,
  query: ListQuery,
  now: Date,
): Promise<ListPage<InvoiceRow & { email: string; orderNumber: number }>> {
  const q = query.q;
  const n = q ? orderNumberOf(q) : undefined;
  const rowByRow = q
    ? or(
        containsText(users.email, q),
        eq(invoices.id, q),
        eq(invoices.orderId, q),
        n === undefined ? undefined : eq(orders.number, n),
        sql`exists (select 1 from ${paymentAttempts} where ${paymentAttempts.invoiceId} = ${invoices.id}
          and ${paymentAttempts.gatewaySessionId} = ${q})`,
      )
    : undefined;
  const search = q ? resolvedOr(await searchTargets(db, q), invoicesNamed, rowByRow) : undefined;
  const rows = await db
    .select({ invoice: invoices, email: users.email, orderNumber: orders.number })
    .from(invoices)
    .innerJoin(users, eq(users.id, invoices.userId))
    .innerJoin(orders, eq(orders.id, invoices.orderId))
    .where(and(keysetWhere(INVOICE_KEY, query), query.status ? invoiceStatusIs(query.status, now) : undefined, search))
    .orderBy(...keysetOrder(INVOICE_KEY, query))
    .limit(query.limit + 1);
  return finishPage(
    rows.map((r) => ({ ...r.invoice, email: r.email, orderNumber: r.orderNumber })),
    query,
    (r) => keyOf(r.createdAt, r.id),
  );
}

const USER_KEY = { at: users.createdAt, id: users.id };

/** A page of every account, newest first; `status` filters by role; search by e-mail, name or id. */
export async function staffAccountsPage(
  db: Executor,
  query: ListQuery,
): Promise<ListPage<{ id: string; email: string; name: string; role: string; createdAt: Date }>> {
  const q = query.q;
  const rows = await db
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, createdAt: users.createdAt })
    .from(users)
    .where(
      and(
        keysetWhere(USER_KEY, query),
        query.status ? eq(users.role, query.status as 'customer' | 'staff') : undefined,
        q ? or(containsText(users.email, q), containsText(users.name, q), eq(users.id, q)) : undefined,
      ),
    )
    .orderBy(...keysetOrder(USER_KEY, query))
    .limit(query.limit + 1);
  return finishPage(rows, query, (r) => keyOf(r.createdAt, r.id));
}

/** The front page counts up to this many; beyond, it says "10,000+" (an exact count reads every row, on every view). */
export const COUNT_CAP = 10_000;

/** Counts for the console's front page (the whole tables, not a page of them), each at most COUNT_CAP + 1. */
export async function staffCounts(db: Executor) {
  const upTo = COUNT_CAP + 1;
  const [row] = await db
    .select({
      orders: sql<number>`(select count(*) from (select 1 from ${orders} limit ${upTo}) c)::int`,
      awaitingPayment: sql<number>`(select count(*) from (select 1 from ${orders} where ${orders.status} = 'awaiting_payment' limit ${upTo}) c)::int`,
      invoices: sql<number>`(select count(*) from (select 1 from ${invoices} limit ${upTo}) c)::int`,
      customers: sql<number>`(select count(*) from (select 1 from ${users} where ${users.role} = 'customer' limit ${upTo}) c)::int`,
    })
    .from(sql`(select 1) as one`);
  return {
    orders: Number(row!.orders),
    awaitingPayment: Number(row!.awaitingPayment),
    invoices: Number(row!.invoices),
    customers: Number(row!.customers),
  };
}
