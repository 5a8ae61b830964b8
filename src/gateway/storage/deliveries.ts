// Webhook deliveries and their attempts. `moveDelivery` is the one writer of
// `webhook_deliveries.status`; a delivery is inserted with its event (storage/events.ts).
import { asc, eq, inArray } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { deliveryMachine, type DeliveryEvent } from '../domain/delivery.machine.ts';
import { webhookAttempts, webhookDeliveries, type DeliveryRow } from './tables.ts';

/** A delivery by id. */
export async function findDelivery(db: Executor, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row;
}

/** Reads and row-locks a delivery for the rest of the transaction. */
export async function lockDelivery(tx: Executor, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).for('update');
  return row;
}

type DeliveryPatch = Partial<Pick<DeliveryRow, 'attempts' | 'lastStatusCode' | 'nextAttemptAt'>>;

/** The one writer of a delivery's status: applies an event to a locked delivery, as the machine allows. */
export async function moveDelivery(
  tx: Executor,
  delivery: DeliveryRow,
  event: DeliveryEvent,
  patch: DeliveryPatch,
  clock: Clock,
): Promise<DeliveryRow> {
  const { state } = deliveryMachine.apply(delivery.status, event);
  const [row] = await tx
    .update(webhookDeliveries)
    .set({ ...patch, status: state, updatedAt: clock.now() })
    .where(eq(webhookDeliveries.id, delivery.id))
    .returning();
  return row!;
}

/** Records one attempt of a delivery (what was sent where, and what came back). */
export async function insertAttempt(db: Executor, attempt: typeof webhookAttempts.$inferInsert): Promise<void> {
  await db.insert(webhookAttempts).values(attempt);
}

/** Every attempt of these deliveries, oldest first (none asked, none read). */
export async function attemptsOfDeliveries(db: Executor, deliveryIds: readonly string[]) {
  if (deliveryIds.length === 0) return [];
  return db
    .select()
    .from(webhookAttempts)
    .where(inArray(webhookAttempts.deliveryId, [...deliveryIds]))
    .orderBy(asc(webhookAttempts.id));
}
