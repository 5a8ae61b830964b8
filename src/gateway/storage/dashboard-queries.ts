// The dashboard's searches: payments (search, filters, keyset paging) and the merchant's event log
// (type filter, paging by cursor) with each event's deliveries. Every query is bound to one merchant.
import { and, desc, eq, gte, ilike, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import type { PaymentQuery } from '../domain/payment-search.ts';
import { events, paymentSessions, webhookDeliveries, type SessionRow } from './tables.ts';

export const PAGE_SIZE = 25;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A page of a merchant's payments matching the query, newest first; `more` when another page follows. */
export async function searchPayments(
  db: Executor,
  merchantId: string,
  q: PaymentQuery,
  limit = PAGE_SIZE,
): Promise<{ rows: SessionRow[]; more: boolean }> {
  const where: (SQL | undefined)[] = [eq(paymentSessions.merchantId, merchantId)];
  if (q.sessionId) where.push(eq(paymentSessions.id, q.sessionId));
  else if (q.text)
    where.push(
      or(
        ilike(paymentSessions.merchantReference, `%${likeEscape(q.text)}%`),
        q.amountMinor === null ? undefined : eq(paymentSessions.amountMinor, q.amountMinor),
      ),
    );
  if (q.status) where.push(eq(paymentSessions.status, q.status));
  if (q.from) where.push(gte(paymentSessions.createdAt, q.from));
  if (q.to) where.push(lt(paymentSessions.createdAt, q.to));
  if (q.after)
    where.push(
      or(
        lt(paymentSessions.createdAt, q.after.createdAt),
        and(eq(paymentSessions.createdAt, q.after.createdAt), lt(paymentSessions.id, q.after.id)),
      ),
    );
  const rows = await db
    .select()
    .from(paymentSessions)
    .where(and(...where))
    .orderBy(desc(paymentSessions.createdAt), desc(paymentSessions.id))
    .limit(limit + 1);
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

/** The distinct event types a merchant has, for the log's filter. */
export async function eventTypes(db: Executor, merchantId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ type: events.type })
    .from(events)
    .where(eq(events.merchantId, merchantId))
    .orderBy(events.type);
  return rows.map((r) => r.type);
}

/** A page of the merchant's events, newest first, each with its deliveries. */
export async function eventLog(
  db: Executor,
  merchantId: string,
  filter: { type: string | null; before: bigint | null },
  limit = PAGE_SIZE,
) {
  const rows = await db
    .select({
      cursor: events.cursor,
      id: events.id,
      type: events.type,
      sessionId: events.sessionId,
      sequence: events.sequence,
      createdAt: events.createdAt,
    })
    .from(events)
    .where(
      and(
        eq(events.merchantId, merchantId),
        filter.type ? eq(events.type, filter.type) : undefined,
        filter.before === null ? undefined : lt(events.cursor, filter.before),
      ),
    )
    .orderBy(desc(events.cursor))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const deliveries = page.length
    ? await db
        .select()
        .from(webhookDeliveries)
        .where(
          and(
            eq(webhookDeliveries.merchantId, merchantId),
            inArray(
              webhookDeliveries.eventId,
              page.map((e) => e.id),
            ),
          ),
        )
    : [];
  return {
    rows: page.map((e) => ({ ...e, deliveries: deliveries.filter((d) => d.eventId === e.id) })),
    more: rows.length > limit,
  };
}

/** Counts of a merchant's payments by status (the payments page's summary). */
export async function paymentCounts(db: Executor, merchantId: string): Promise<Map<string, number>> {
  const rows = await db
    .select({ status: paymentSessions.status, n: sql<number>`count(*)::int` })
    .from(paymentSessions)
    .where(eq(paymentSessions.merchantId, merchantId))
    .groupBy(paymentSessions.status);
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
}
