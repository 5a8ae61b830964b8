// Payment attempts and the gateway's news as stored: rows and the queries of the invoice page, the
// staff console and the reconciliation job. Status changes live in commands/.
import { and, asc, desc, eq, gte, inArray, isNotNull, lt, lte, sql, type SQL } from 'drizzle-orm';
import { deleteInBatches } from '../../platform/db/batched-delete.ts';
import type { Executor } from '../../platform/db/database.ts';
import { INVOICE_STATUSES, type InvoiceStatus } from '../domain/invoice.machine.ts';
import { gatewayEvents, invoices, paymentAttempts, paymentState, webhookReceipts } from './tables.ts';

export type AttemptRow = typeof paymentAttempts.$inferSelect;
export type ReceiptRow = typeof webhookReceipts.$inferSelect;

/** Attempts whose hosted session may still change: what reconciliation and "check payment status" ask about. */
export const OPEN_ATTEMPT_STATUSES: string[] = ['session_created', 'pending'];

/** An invoice's attempts, newest first. */
export async function attemptsOf(db: Executor, invoiceId: string): Promise<AttemptRow[]> {
  return db
    .select()
    .from(paymentAttempts)
    .where(eq(paymentAttempts.invoiceId, invoiceId))
    .orderBy(desc(paymentAttempts.createdAt), desc(paymentAttempts.id));
}

/** The open attempts of an invoice (sessions the gateway may still move). */
export async function openAttemptsOf(db: Executor, invoiceId: string): Promise<AttemptRow[]> {
  return db
    .select()
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.invoiceId, invoiceId), inArray(paymentAttempts.status, OPEN_ATTEMPT_STATUSES)));
}

/** Open attempts not updated since `before`, oldest first (a webhook may have been lost). */
export async function staleOpenAttempts(db: Executor, before: Date, limit: number): Promise<AttemptRow[]> {
  return db
    .select()
    .from(paymentAttempts)
    .where(and(inArray(paymentAttempts.status, OPEN_ATTEMPT_STATUSES), lte(paymentAttempts.updatedAt, before)))
    .orderBy(asc(paymentAttempts.updatedAt))
    .limit(limit);
}

/** A verified webhook delivery that was not applied (malformed, or failed before the commit), kept for staff. */
export async function keepReceipt(
  db: Executor,
  row: { receivedAt: Date; eventId: string; verdict: string; reason: string },
): Promise<void> {
  await db.insert(webhookReceipts).values(row);
}

/** Deletes verified-delivery receipts received before `olderThan`, in bounded batches; returns how many. */
export async function pruneReceipts(db: Executor, olderThan: Date): Promise<number> {
  return deleteInBatches(db, {
    table: 'webhook_receipts',
    key: 'id',
    where: sql`received_at < ${olderThan.toISOString()}::timestamptz`,
    orderBy: 'received_at',
  });
}

/** The attempts and webhook receipts of some invoices, oldest first (the staff order page). */
export async function paymentsOfInvoices(
  db: Executor,
  invoiceIds: readonly string[],
): Promise<{ attempts: AttemptRow[]; receipts: ReceiptRow[] }> {
  if (invoiceIds.length === 0) return { attempts: [], receipts: [] };
  const [attempts, receipts] = await Promise.all([
    db
      .select()
      .from(paymentAttempts)
      .where(inArray(paymentAttempts.invoiceId, [...invoiceIds]))
      .orderBy(asc(paymentAttempts.createdAt)),
    db
      .select()
      .from(webhookReceipts)
      .where(inArray(webhookReceipts.invoiceId, [...invoiceIds]))
      .orderBy(asc(webhookReceipts.id)),
  ]);
  return { attempts, receipts };
}

/** Invoice statuses that a paid or captured attempt agrees with. */
const PAID_INVOICE_STATUSES: InvoiceStatus[] = ['paid', 'refunded', 'disputed', 'dispute_lost'];

/**
 * Where this shop and the gateway disagree, newest first (at most 200): an attempt paid or captured
 * whose invoice is not paid, or a voided one whose invoice was paid or reversed. Read in two queries,
 * each from its rare side (the invoices not paid, along their status index; the voided attempts,
 * along theirs), so the cost follows the unpaid invoices and the voids, not every paid order.
 */
export async function reconciliationFindings(db: Executor) {
  const columns = { attempt: paymentAttempts, invoiceStatus: invoices.status, orderId: invoices.orderId };
  const joined = () =>
    db.select(columns).from(paymentAttempts).innerJoin(invoices, eq(invoices.id, paymentAttempts.invoiceId));
  const [paidNotHere, voidedThere] = await Promise.all([
    joined()
      .where(
        and(
          inArray(
            invoices.status,
            INVOICE_STATUSES.filter((s) => !PAID_INVOICE_STATUSES.includes(s)),
          ),
          inArray(paymentAttempts.status, ['paid', 'captured']),
        ),
      )
      .orderBy(desc(paymentAttempts.updatedAt))
      .limit(200),
    joined()
      .where(and(eq(paymentAttempts.status, 'voided'), inArray(invoices.status, ['paid', 'reversed'])))
      .orderBy(desc(paymentAttempts.updatedAt))
      .limit(200),
  ]);
  const rows = [...paidNotHere, ...voidedThere]
    .sort((a, b) => b.attempt.updatedAt.getTime() - a.attempt.updatedAt.getTime())
    .slice(0, 200);
  return rows.map((r) => ({
    ...r,
    finding:
      r.attempt.status !== 'voided'
        ? 'paid at the gateway, not here'
        : r.invoiceStatus === 'reversed'
          ? 'accepted here, voided at the gateway: invoice reversed, order awaiting payment again (check nothing shipped)'
          : 'paid here, voided at the gateway',
  }));
}

/** An attempt with what reconciliation compares of its invoice. */
export interface AttemptWithInvoice {
  readonly attempt: AttemptRow;
  readonly invoiceStatus: InvoiceStatus;
  readonly orderId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

const withInvoice = {
  attempt: paymentAttempts,
  invoiceStatus: invoices.status,
  orderId: invoices.orderId,
  amountMinor: invoices.amountMinor,
  currency: invoices.currency,
};

/**
 * The attempts `countersign reconcile` compares with the gateway: those that reached it (a session id)
 * and were created since `since` or are still open, newest first, at most `limit`.
 */
export async function attemptsToReconcile(db: Executor, since: Date, limit: number): Promise<AttemptWithInvoice[]> {
  // Two reads, each along its own index (the recent ones by creation time, the older open ones by
  // status), not one OR that walks every attempt newest first until it has found `limit` of them.
  const read = (where: SQL | undefined) =>
    db
      .select(withInvoice)
      .from(paymentAttempts)
      .innerJoin(invoices, eq(invoices.id, paymentAttempts.invoiceId))
      .where(and(isNotNull(paymentAttempts.gatewaySessionId), where))
      .orderBy(desc(paymentAttempts.createdAt), desc(paymentAttempts.id))
      .limit(limit);
  const recent = await read(gte(paymentAttempts.createdAt, since));
  const olderOpen = await read(
    and(lt(paymentAttempts.createdAt, since), inArray(paymentAttempts.status, OPEN_ATTEMPT_STATUSES)),
  );
  const newestFirst = (a: AttemptWithInvoice, b: AttemptWithInvoice) =>
    b.attempt.createdAt.getTime() - a.attempt.createdAt.getTime() ||
    (b.attempt.id < a.attempt.id ? -1 : b.attempt.id > a.attempt.id ? 1 : 0);
  return [...recent, ...olderOpen].sort(newestFirst).slice(0, limit);
}

/** These attempts (by id) with their invoices, as they are now. */
export async function attemptsWithInvoices(db: Executor, ids: readonly string[]): Promise<AttemptWithInvoice[]> {
  if (ids.length === 0) return [];
  return db
    .select(withInvoice)
    .from(paymentAttempts)
    .innerJoin(invoices, eq(invoices.id, paymentAttempts.invoiceId))
    .where(inArray(paymentAttempts.id, [...ids]));
}

/** How many open attempts have not changed since `before` (what the next cycle would poll, up to its limit). */
export async function countStaleOpenAttempts(db: Executor, before: Date, limit: number): Promise<number> {
  return (await staleOpenAttempts(db, before, limit)).length;
}

/**
 * Which of these gateway events the shop has applied (committed), each with where it was first
 * applied from; one statement for a page of the event feed. An event claimed by a transaction not yet
 * committed is not among them.
 */
export async function appliedEventSources(db: Executor, eventIds: readonly string[]): Promise<Map<string, string>> {
  if (eventIds.length === 0) return new Map();
  const found = await db
    .select({ eventId: gatewayEvents.eventId, source: gatewayEvents.source })
    .from(gatewayEvents)
    .where(inArray(gatewayEvents.eventId, [...eventIds]));
  return new Map(found.map((r) => [r.eventId, r.source]));
}

/** A small durable value of background work (the event feed's cursor), or null. */
export async function readPaymentState(db: Executor, key: string): Promise<string | null> {
  const [row] = await db.select().from(paymentState).where(eq(paymentState.key, key));
  return row?.value ?? null;
}

/** Saves a small durable value of background work. */
export async function savePaymentState(db: Executor, key: string, value: string, now: Date): Promise<void> {
  await db
    .insert(paymentState)
    .values({ key, value, updatedAt: now })
    .onConflictDoUpdate({ target: paymentState.key, set: { value, updatedAt: now } });
}
