// What a staff list's search box names, looked up along indexes before the list is read. A list that
// tested every row against "e-mail contains it, or id is it, or number is it…" (an OR across joined
// tables that no index answers) walked the whole table, newest first, whenever the search named few
// rows — an order number, an invoice id, a session id. Resolved first, the search becomes "id in
// (these) or owner in (those)", which the list reads through its indexes, in proportion to what it
// names. Search text is compared literally: equality, or a LIKE whose wildcards in the text are
// escaped (a LIKE rather than strpos so that the customers' trigram indexes answer it).
import { eq, inArray, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { invoices, orders, paymentAttempts, users } from './tables.ts';

/** True when `column` contains `text`, case-insensitively and literally (%, _ and \ in it match themselves). */
export function containsText(column: AnyColumn, text: string): SQL {
  const literal = text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql`lower(${column}) like ${`%${literal}%`}`;
}

/** The order number a search names (digits, optionally after a hash sign), or undefined. */
export function orderNumberOf(q: string): number | undefined {
  const m = /^#?(\d{1,9})$/.exec(q);
  return m ? Number(m[1]) : undefined;
}

/** At most this many customers may match an e-mail search for it to be resolved first. */
export const NAMED_CUSTOMERS = 100;

/** What one search names, each kind of match apart (each list searches its own columns). */
export interface SearchTargets {
  /** Customers whose e-mail contains the text; null when more than NAMED_CUSTOMERS do (the list then filters as before). */
  readonly customerIds: string[] | null;
  readonly orderById: string[];
  readonly orderByNumber: string[];
  /** Invoices whose id it is / whose order's id it is / whose order's number it is. */
  readonly invoiceById: Array<{ id: string; orderId: string }>;
  readonly invoiceByOrderId: string[];
  readonly invoiceByOrderNumber: string[];
  /** Attempts whose id it is / whose gateway session id it is. */
  readonly attemptById: string[];
  readonly attemptBySession: Array<{ id: string; invoiceId: string; orderId: string }>;
}

export async function searchTargets(db: Executor, q: string): Promise<SearchTargets> {
  const n = orderNumberOf(q);
  const customers = await db
    .select({ id: users.id })
    .from(users)
    .where(containsText(users.email, q))
    .limit(NAMED_CUSTOMERS + 1);
  const named = await db
    .select({ id: orders.id, number: orders.number })
    .from(orders)
    .where(or(eq(orders.id, q), n === undefined ? undefined : eq(orders.number, n)));
  const byNumber = named.filter((o) => o.number === n).map((o) => o.id);
  const inv = await db
    .select({ id: invoices.id, orderId: invoices.orderId })
    .from(invoices)
    .where(
      or(
        eq(invoices.id, q),
        eq(invoices.orderId, q),
        byNumber.length ? inArray(invoices.orderId, byNumber) : undefined,
      ),
    );
  const att = await db
    .select({
      id: paymentAttempts.id,
      invoiceId: paymentAttempts.invoiceId,
      orderId: invoices.orderId,
      sessionId: paymentAttempts.gatewaySessionId,
    })
    .from(paymentAttempts)
    .innerJoin(invoices, eq(invoices.id, paymentAttempts.invoiceId))
    .where(or(eq(paymentAttempts.id, q), eq(paymentAttempts.gatewaySessionId, q)));
  return {
    customerIds: customers.length > NAMED_CUSTOMERS ? null : customers.map((r) => r.id),
    orderById: named.filter((o) => o.id === q).map((o) => o.id),
    orderByNumber: byNumber,
    invoiceById: inv.filter((i) => i.id === q),
    invoiceByOrderId: inv.filter((i) => i.orderId === q).map((i) => i.id),
    invoiceByOrderNumber: inv.filter((i) => byNumber.includes(i.orderId)).map((i) => i.id),
    attemptById: att.filter((a) => a.id === q).map((a) => a.id),
    attemptBySession: att.filter((a) => a.sessionId === q),
  };
}

/** `column in (ids)`, or false when there are none. */
export function among(column: AnyColumn, ids: readonly string[]): SQL {
  return ids.length ? inArray(column, [...new Set(ids)]) : sql`false`;
}

/** The orders list's condition for a resolved search: the orders it names, or its customers' orders. */
export function ordersNamed(t: SearchTargets & { customerIds: string[] }): SQL {
  return or(
    among(orders.id, [
      ...t.orderById,
      ...t.orderByNumber,
      ...t.invoiceById.map((i) => i.orderId),
      ...t.attemptBySession.map((a) => a.orderId),
    ]),
    among(orders.userId, t.customerIds),
  )!;
}

/** The invoices list's condition for a resolved search. */
export function invoicesNamed(t: SearchTargets & { customerIds: string[] }): SQL {
  return or(
    among(invoices.id, [
      ...t.invoiceById.map((i) => i.id),
      ...t.invoiceByOrderId,
      ...t.invoiceByOrderNumber,
      ...t.attemptBySession.map((a) => a.invoiceId),
    ]),
    among(invoices.userId, t.customerIds),
  )!;
}

/** The attempts list's condition for a resolved search (its customers' attempts through their invoices). */
export function attemptsNamed(db: Executor, t: SearchTargets & { customerIds: string[] }): SQL {
  const ofCustomers = t.customerIds.length
    ? inArray(
        paymentAttempts.invoiceId,
        db.select({ id: invoices.id }).from(invoices).where(inArray(invoices.userId, t.customerIds)),
      )
    : sql`false`;
  return or(
    among(paymentAttempts.id, [...t.attemptById, ...t.attemptBySession.map((a) => a.id)]),
    among(paymentAttempts.invoiceId, [...t.invoiceById.map((i) => i.id), ...t.invoiceByOrderId]),
    ofCustomers,
  )!;
}

/** Whether a search could be resolved (few enough customers match its e-mail part). */
export function resolved(t: SearchTargets): t is SearchTargets & { customerIds: string[] } {
  return t.customerIds !== null;
}
