// The merchant's view of one event: the event, its webhook deliveries and every attempt of each
// (what `countersign events show` prints and the dashboard shows per payment).
import { attemptsOfDeliveries } from './deliveries.ts';
import { and, asc, desc, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { events, webhookAttempts, webhookDeliveries, type DeliveryRow, type EventRow } from './tables.ts';

export interface EventWithDeliveries {
  readonly event: EventRow;
  readonly deliveries: readonly { delivery: DeliveryRow; attempts: (typeof webhookAttempts.$inferSelect)[] }[];
}

/** A merchant's event with its deliveries and attempts; undefined for another merchant's or no event. */
export async function findMerchantEvent(
  db: Executor,
  merchantId: string,
  eventId: string,
): Promise<EventWithDeliveries | undefined> {
  const [event] = await db
    .select()
    .from(events)
    .where(and(eq(events.id, eventId), eq(events.merchantId, merchantId)));
  if (!event) return undefined;
  const deliveries = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.eventId, eventId), eq(webhookDeliveries.merchantId, merchantId)))
    .orderBy(asc(webhookDeliveries.createdAt));
  const attempts = await attemptsOfDeliveries(
    db,
    deliveries.map((d) => d.id),
  );
  return {
    event,
    deliveries: deliveries.map((delivery) => ({
      delivery,
      attempts: attempts.filter((a) => a.deliveryId === delivery.id),
    })),
  };
}

/** The cursor of the merchant's newest event (0 when none). */
export async function latestCursor(db: Executor, merchantId: string): Promise<bigint> {
  const [row] = await db
    .select({ cursor: events.cursor })
    .from(events)
    .where(eq(events.merchantId, merchantId))
    .orderBy(desc(events.cursor))
    .limit(1);
  return row?.cursor ?? 0n;
}
