// Stripe-format events (`evt_…`) and their outbox: each event row, and one delivery (plus its job)
// per enabled endpoint that asked for its type, all in the caller's transaction, the state change's.
// Read back by GET /v1/events with Stripe's list semantics (newest first, cursors by event id).
import { and, asc, desc, eq, gt, gte, inArray, like, lt, or, sql, type SQL } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { DELIVER_WEBHOOK_TASK } from '../jobs/task-names.ts';
import { stripeEvents, type StripeEventRow, type WebhookEndpointRow } from './stripe-tables.ts';
import { webhookDeliveries } from './tables.ts';
import { feedLock } from './event-bell.ts';
import { enabledWebhookEndpoints } from './webhook-endpoints.ts';

/** Whether an endpoint's `enabled_events` asks for a type. */
export function endpointWants(endpoint: Pick<WebhookEndpointRow, 'enabledEvents'>, type: string): boolean {
  return endpoint.enabledEvents.includes('*') || endpoint.enabledEvents.includes(type);
}

/**
 * Inserts one Stripe event (payload without `pending_webhooks`, filled here) and queues a delivery to
 * each enabled endpoint that wants its type. The caller holds the merchant's event lock.
 */
export async function insertStripeEvent(
  tx: Executor,
  input: {
    merchantId: string;
    sessionId: string;
    type: string;
    /** The payload, given its id, its pending deliveries and its `created` (the row's time, in seconds). */
    build: (id: string, pending: number, created: number) => object;
  },
  clock: Clock,
): Promise<StripeEventRow> {
  const now = clock.now();
  const id = newId('evt', now);
  const endpoints = (await enabledWebhookEndpoints(tx, input.merchantId)).filter((e) => endpointWants(e, input.type));
  const [row] = await tx
    .insert(stripeEvents)
    .values({
      id,
      merchantId: input.merchantId,
      type: input.type,
      sessionId: input.sessionId,
      payload: input.build(id, endpoints.length, Math.floor(now.getTime() / 1000)),
      createdAt: now,
    })
    .returning();
  for (const endpoint of endpoints) {
    const deliveryId = newId('whd', now);
    await tx.insert(webhookDeliveries).values({
      id: deliveryId,
      merchantId: input.merchantId,
      eventId: id,
      webhookEndpointId: endpoint.id,
      status: 'pending',
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    });
    await enqueue(
      tx,
      { task: DELIVER_WEBHOOK_TASK, payload: { deliveryId, attempt: 1 }, key: `${deliveryId}:1`, maxAttempts: 3 },
      clock,
    );
  }
  return row!;
}

/** A merchant's Stripe event by id; another merchant's is not found. */
export async function findStripeEvent(
  db: Executor,
  merchantId: string | null,
  id: string,
): Promise<StripeEventRow | undefined> {
  const [row] = await db
    .select()
    .from(stripeEvents)
    .where(
      merchantId === null
        ? eq(stripeEvents.id, id)
        : and(eq(stripeEvents.id, id), eq(stripeEvents.merchantId, merchantId)),
    );
  return row;
}

/** The filters of GET /v1/events. Type patterns may hold `*` wildcards (`payment_intent.*`). */
export interface StripeEventQuery {
  readonly merchantId: string;
  readonly limit: number;
  readonly startingAfter?: bigint;
  readonly endingBefore?: bigint;
  readonly types?: readonly string[];
  /** The instants covered, half-open: from `gte`, before `lt` (list-params.ts turns seconds into it). */
  readonly created?: { gte?: Date; lt?: Date };
}

function typeFilter(types: readonly string[]): SQL | undefined {
  const exact = types.filter((t) => !t.includes('*'));
  const patterns = types
    .filter((t) => t.includes('*'))
    .map((t) => t.replace(/[\\%_]/g, (c) => `\\${c}`).replaceAll('*', '%'));
  return or(
    ...(exact.length ? [inArray(stripeEvents.type, exact)] : []),
    ...patterns.map((p) => like(stripeEvents.type, p)),
  );
}

/**
 * One page, newest first, and whether more lie beyond it in the direction read: after
 * `startingAfter` (older), or the page just newer than `endingBefore` (read oldest first, flipped).
 */
export async function listStripeEvents(
  db: Executor,
  q: StripeEventQuery,
): Promise<{ rows: StripeEventRow[]; hasMore: boolean }> {
  const c = q.created ?? {};
  const where = and(
    eq(stripeEvents.merchantId, q.merchantId),
    q.types?.length ? typeFilter(q.types) : undefined,
    c.gte ? gte(stripeEvents.createdAt, c.gte) : undefined,
    c.lt ? lt(stripeEvents.createdAt, c.lt) : undefined,
    q.startingAfter !== undefined ? lt(stripeEvents.cursor, q.startingAfter) : undefined,
    q.endingBefore !== undefined ? gt(stripeEvents.cursor, q.endingBefore) : undefined,
  );
  const backwards = q.startingAfter === undefined && q.endingBefore !== undefined;
  const page = await db
    .select()
    .from(stripeEvents)
    .where(where)
    .orderBy(backwards ? asc(stripeEvents.cursor) : desc(stripeEvents.cursor))
    .limit(q.limit + 1);
  const rows = page.slice(0, q.limit);
  return { rows: backwards ? rows.reverse() : rows, hasMore: page.length > q.limit };
}

/** A session's Stripe events, oldest first (the dashboard). */
export function stripeEventsOfSession(db: Executor, sessionId: string): Promise<StripeEventRow[]> {
  return db.select().from(stripeEvents).where(eq(stripeEvents.sessionId, sessionId)).orderBy(asc(stripeEvents.cursor));
}

/** Takes the merchant's event lock (the native feed's), so cursors become visible in order. */
export async function lockMerchantEvents(tx: Executor, merchantId: string): Promise<void> {
  await tx.execute(feedLock(merchantId));
}

/** For each event, how many of its deliveries have not (yet) succeeded: Stripe's `pending_webhooks`. */
export async function pendingWebhooks(db: Executor, eventIds: readonly string[]): Promise<Map<string, number>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db
    .select({ eventId: webhookDeliveries.eventId, n: sql<number>`count(*)::int` })
    .from(webhookDeliveries)
    .where(
      and(
        inArray(webhookDeliveries.eventId, [...eventIds]),
        sql`${webhookDeliveries.webhookEndpointId} is not null`,
        sql`${webhookDeliveries.status} <> 'delivered'`,
      ),
    )
    .groupBy(webhookDeliveries.eventId);
  return new Map(rows.map((r) => [r.eventId, Number(r.n)]));
}

/** The merchant's Stripe events after a cursor, oldest first (the live stream of `countersign listen`). */
export function stripeEventsAfter(
  db: Executor,
  merchantId: string,
  cursor: bigint,
  limit: number,
): Promise<StripeEventRow[]> {
  return db
    .select()
    .from(stripeEvents)
    .where(and(eq(stripeEvents.merchantId, merchantId), gt(stripeEvents.cursor, cursor)))
    .orderBy(asc(stripeEvents.cursor))
    .limit(limit);
}

/** The cursor of the merchant's newest Stripe event (0 when there is none). */
export async function latestStripeCursor(db: Executor, merchantId: string): Promise<bigint> {
  const [row] = await db
    .select({ cursor: stripeEvents.cursor })
    .from(stripeEvents)
    .where(eq(stripeEvents.merchantId, merchantId))
    .orderBy(desc(stripeEvents.cursor))
    .limit(1);
  return row?.cursor ?? 0n;
}
