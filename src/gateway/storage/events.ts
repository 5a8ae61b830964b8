// The event feed and its outbox: an event row, and for merchants with a webhook endpoint a delivery
// row plus its job, all in the caller's transaction (the state change's), so that a committed change
// always has its event and a rolled-back one has none. A session opened through the Stripe API keeps
// its native event (the dashboard's history) but gets no native delivery: its Stripe events and their
// deliveries are written instead (storage/stripe-projection.ts).
import { and, asc, eq, gt, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import { toJSON, money, type Currency } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import { rows, type Executor } from '../../platform/db/database.ts';
import { jobInsert } from '../../platform/jobs/enqueue.ts';
import { DELIVER_WEBHOOK_TASK } from '../jobs/task-names.ts';
import { EVENT_BELL_CHANNEL, feedLock } from './event-bell.ts';
import { projectStripeEvents } from './stripe-projection.ts';
import { events, merchants, webhookDeliveries, type EventRow, type SessionRow } from './tables.ts';

/** The JSON every webhook and feed entry carries. */
export interface EventPayload {
  readonly id: string;
  readonly type: string;
  readonly created_at: string;
  readonly data: {
    readonly session_id: string;
    readonly merchant_reference: string;
    readonly amount: { minor: string; currency: string };
    readonly status: string;
    readonly sequence: number;
    readonly reason?: string;
    /** The card entered on the hosted page (brand and last four only), once there is one. */
    readonly card?: { brand: string; last4: string };
    readonly refund?: {
      id: string;
      amount: { minor: string; currency: string };
      refunded_total: { minor: string; currency: string };
    };
  };
}

type FeedEvent = typeof events.$inferInsert & { payload: EventPayload };

/** The event a session (as updated to its new status and sequence) emits: its feed row and its JSON. */
export function sessionEvent(
  input: { session: SessionRow; type: string; reason?: string | null; refund?: EventPayload['data']['refund'] },
  now: Date,
): FeedEvent {
  const { session } = input;
  const id = newId('evt', now);
  const payload: EventPayload = {
    id,
    type: input.type,
    created_at: now.toISOString(),
    data: {
      session_id: session.id,
      merchant_reference: session.merchantReference,
      amount: toJSON(money(session.amountMinor, session.currency as Currency)),
      status: session.status,
      sequence: session.sequence,
      ...(input.reason ? { reason: input.reason } : {}),
      ...(session.cardLast4 ? { card: { brand: session.cardBrand ?? 'unknown', last4: session.cardLast4 } } : {}),
      ...(input.refund ? { refund: input.refund } : {}),
    },
  };
  return {
    id,
    merchantId: session.merchantId,
    type: input.type,
    sessionId: session.id,
    sequence: session.sequence,
    payload,
    createdAt: now,
  };
}

/** Appends an event for a session (already updated to its new status and sequence) and its outbox row. */
export async function appendEvent(
  tx: Executor,
  input: { session: SessionRow; type: string; reason?: string | null; refund?: EventPayload['data']['refund'] },
  clock: Clock,
): Promise<EventPayload> {
  const event = sessionEvent(input, clock.now());
  const { session } = input;
  if (session.api !== 'stripe') {
    await appendNativeEvent(tx, event, clock);
    return event.payload;
  }
  // A Stripe session's news goes out as Stripe events, to its merchant's Stripe endpoints only.
  await insertFeedEvent(tx, event);
  await projectStripeEvents(tx, { session, type: input.type, refundId: input.refund?.id }, clock);
  return event.payload;
}

/**
 * The feed's append as CTEs: the merchant's feed lock first, then the row (`appended`); `onlyIf`, a
 * condition on the statement's other CTEs, must hold for the row to be written.
 */
function feedAppend(e: typeof events.$inferInsert & { payload: object }, onlyIf?: SQL): SQL {
  return sql`feed_lock as (${feedLock(e.merchantId)}),
    appended as (
      insert into ${events} (id, merchant_id, type, session_id, sequence, payload, created_at)
      select ${e.id}, ${e.merchantId}, ${e.type}, ${e.sessionId}, ${e.sequence}, ${JSON.stringify(e.payload)}::jsonb,
             ${e.createdAt.toISOString()}::timestamptz
        from feed_lock
       ${onlyIf ? sql`where ${onlyIf}` : sql``}
      returning merchant_id
    )`;
}

/** The bell for what was appended: a NOTIFY, sent only if the transaction commits. */
const RING = sql`select pg_notify(${EVENT_BELL_CHANNEL}, merchant_id) from appended`;

/**
 * Appends an event to its merchant's feed, in one statement: the merchant's feed lock first (held to
 * commit: cursors are drawn, and become visible, in order), then the row, then the bell.
 */
export async function insertFeedEvent(
  tx: Executor,
  e: typeof events.$inferInsert & { payload: object },
): Promise<void> {
  await tx.execute(sql`with ${feedAppend(e)} ${RING}`);
}

/**
 * Appends a native event and queues its delivery to the merchant's webhook URL, in one statement: the
 * feed's append (as insertFeedEvent), the delivery, written only when the merchant has a URL (pending
 * when the endpoint is on, disabled when it is off: kept, to be sent if it is switched back on), and
 * for a pending delivery the job of its first attempt. `first`: the state change the event reports
 * (an update returning its row), in the same statement; nothing is appended unless it wrote. True
 * when the event was appended.
 */
export async function appendNativeEvent(
  tx: Executor,
  e: typeof events.$inferInsert & { payload: object },
  clock: Clock,
  first?: SQLWrapper,
): Promise<boolean> {
  const now = clock.now();
  const deliveryId = newId('whd', now);
  const at = now.toISOString();
  const job = jobInsert(
    { task: DELIVER_WEBHOOK_TASK, payload: { deliveryId, attempt: 1 }, key: `${deliveryId}:1`, maxAttempts: 3 },
    clock,
    sql`select 1 from delivery where status = 'pending'`,
  );
  const rang = await rows(
    tx,
    sql`
    with ${first ? sql`moved as (${first.getSQL()}), ` : sql``}${feedAppend(e, first ? sql`exists (select 1 from moved)` : undefined)},
    delivery as (
      insert into ${webhookDeliveries} (id, merchant_id, event_id, status, next_attempt_at, created_at, updated_at)
      select ${deliveryId}, ${merchants.id}, ${e.id},
             case when ${merchants.webhookEnabled} then 'pending' else 'disabled' end,
             case when ${merchants.webhookEnabled} then ${at}::timestamptz end,
             ${at}::timestamptz, ${at}::timestamptz
        from ${merchants}
       where ${merchants.id} = ${e.merchantId} and ${merchants.webhookUrl} <> '' and exists (select 1 from appended)
      returning status
    ),
    queued as (${job.query})
    ${RING}`,
  );
  return rang.length > 0;
}

/** An event by id. */
export async function findEvent(db: Executor, id: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(events).where(eq(events.id, id));
  return row;
}

/** A page of a merchant's feed after a cursor, oldest first. */
export async function listEvents(db: Executor, merchantId: string, after: bigint, limit: number): Promise<EventRow[]> {
  return db
    .select()
    .from(events)
    .where(and(eq(events.merchantId, merchantId), gt(events.cursor, after)))
    .orderBy(asc(events.cursor))
    .limit(limit);
}
