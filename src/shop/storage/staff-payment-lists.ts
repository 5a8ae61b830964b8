// The staff console's payment lists — attempts, verified webhook deliveries, refunds — paged by key
// (keyset.ts), searched and filtered in the database; and the names behind the staff ids they carry.
import { and, eq, inArray, notInArray, or } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import type { RefundStatus } from '../domain/refund.machine.ts';
import { finishPage, keyOf, keysetOrder, keysetWhere, type ListPage, type ListQuery } from './keyset.ts';
import type { AttemptRow, ReceiptRow } from './payments.ts';
import type { RefundRow } from './refunds.ts';
import { containsText, resolvedOr } from './staff-lists.ts';
import { attemptsNamed, searchTargets } from './staff-search.ts';
import { invoices, paymentAttempts, refunds, users, webhookReceipts } from './tables.ts';

// Verdicts of refusals recorded row by row before they were only counted: not genuine deliveries.
const UNVERIFIED_VERDICTS = ['bad_signature', 'bad_request'];

const ATTEMPT_KEY = { at: paymentAttempts.createdAt, id: paymentAttempts.id };

/** A page of payment attempts, newest first, with their order; search by attempt, invoice, order or session id, or e-mail. */
export async function staffAttemptsPage(
  db: Executor,
  query: ListQuery,
): Promise<ListPage<AttemptRow & { orderId: string }>> {
  const q = query.q;
  const search = q
    ? resolvedOr(
        await searchTargets(db, q),
        (t) => attemptsNamed(db, t),
        or(
          eq(paymentAttempts.id, q),
          eq(paymentAttempts.invoiceId, q),
          eq(invoices.orderId, q),
          eq(paymentAttempts.gatewaySessionId, q),
          containsText(users.email, q),
        ),
      )
    : undefined;
  const rows = await db
    .select({ attempt: paymentAttempts, orderId: invoices.orderId })
    .from(paymentAttempts)
    .innerJoin(invoices, eq(invoices.id, paymentAttempts.invoiceId))
    .innerJoin(users, eq(users.id, invoices.userId))
    .where(
      and(keysetWhere(ATTEMPT_KEY, query), query.status ? eq(paymentAttempts.status, query.status) : undefined, search),
    )
    .orderBy(...keysetOrder(ATTEMPT_KEY, query))
    .limit(query.limit + 1);
  return finishPage(
    rows.map((r) => ({ ...r.attempt, orderId: r.orderId })),
    query,
    (r) => keyOf(r.createdAt, r.id),
  );
}

const RECEIPT_KEY = { at: webhookReceipts.receivedAt, id: webhookReceipts.id, numericId: true };

/** A page of verified webhook deliveries, newest first; `status` is the verdict; search by event, invoice or session id or type. */
export async function staffReceiptsPage(db: Executor, query: ListQuery): Promise<ListPage<ReceiptRow>> {
  const q = query.q;
  const rows = await db
    .select()
    .from(webhookReceipts)
    .where(
      and(
        notInArray(webhookReceipts.verdict, UNVERIFIED_VERDICTS),
        keysetWhere(RECEIPT_KEY, query),
        query.status ? eq(webhookReceipts.verdict, query.status) : undefined,
        // An invoice id (always inv_…) is looked up along the invoice index alone: in an OR with the
        // unindexed columns it made the search walk every receipt (121 ms at 100k paid orders).
        q?.startsWith('inv_')
          ? eq(webhookReceipts.invoiceId, q)
          : q
            ? or(eq(webhookReceipts.eventId, q), eq(webhookReceipts.sessionId, q), eq(webhookReceipts.eventType, q))
            : undefined,
      ),
    )
    .orderBy(...keysetOrder(RECEIPT_KEY, query))
    .limit(query.limit + 1);
  return finishPage(rows, query, (r) => keyOf(r.receivedAt, r.id));
}

const REFUND_KEY = { at: refunds.createdAt, id: refunds.id };

/** A page of refunds, newest first; search by refund, order, invoice, session or gateway refund id, or the customer's e-mail. */
export async function staffRefundsPage(db: Executor, query: ListQuery): Promise<ListPage<RefundRow>> {
  const q = query.q;
  const rows = await db
    .select({ refund: refunds })
    .from(refunds)
    .innerJoin(invoices, eq(invoices.id, refunds.invoiceId))
    .innerJoin(users, eq(users.id, invoices.userId))
    .where(
      and(
        keysetWhere(REFUND_KEY, query),
        query.status ? eq(refunds.status, query.status as RefundStatus) : undefined,
        q
          ? or(
              eq(refunds.id, q),
              eq(refunds.orderId, q),
              eq(refunds.invoiceId, q),
              eq(refunds.sessionId, q),
              eq(refunds.gatewayRefundId, q),
              containsText(users.email, q),
            )
          : undefined,
      ),
    )
    .orderBy(...keysetOrder(REFUND_KEY, query))
    .limit(query.limit + 1);
  return finishPage(
    rows.map((r) => r.refund),
    query,
    (r) => keyOf(r.createdAt, r.id),
  );
}

/** Who an id names, as staff read it: name and e-mail of an account. */
export interface Person {
  readonly name: string;
  readonly email: string;
}

/** The accounts behind these ids (staff who requested or approved, actors of the audit trail); unknown ids are absent. */
export async function peopleByIds(
  db: Executor,
  ids: Iterable<string | null | undefined>,
): Promise<Map<string, Person>> {
  const wanted = [...new Set([...ids].filter((id): id is string => !!id && id.startsWith('usr_')))];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .select({ id: users.id, name: users.name, email: users.email })
    .from(users)
    .where(inArray(users.id, wanted));
  return new Map(rows.map((r) => [r.id, { name: r.name, email: r.email }]));
}

/** The verdicts a verified webhook delivery can get (the webhooks list's filter). */
export const RECEIPT_VERDICTS = ['accepted', 'refused', 'ignored', 'duplicate', 'malformed', 'error'] as const;
