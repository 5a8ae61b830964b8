// Webhook deliveries and their attempts. `moveDelivery` is the one writer of
// `webhook_deliveries.status`; a delivery is inserted with its event (storage/events.ts).
import { and, asc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import { deliveryMachine, type DeliveryEvent } from '../domain/delivery.machine.ts';
import { merchantFaultsOn, merchantUnretiredSecrets, type UnretiredSecret } from './merchants.ts';
import {
  events,
  merchants,
  paymentSessions,
  webhookAttempts,
  webhookDeliveries,
  type DeliveryRow,
  type EventRow,
  type MerchantRow,
  type SessionRow,
} from './tables.ts';

// Every delivery attempt reads this first: built once, the delivery's id its one value.
const native = isNull(webhookDeliveries.webhookEndpointId);
const deliveryForAttempt = builtOnce((on) =>
  on
    .select({
      delivery: webhookDeliveries,
      event: events,
      merchant: merchants,
      session: paymentSessions,
      faultsOn: merchantFaultsOn(),
      secrets: merchantUnretiredSecrets(),
    })
    .from(webhookDeliveries)
    .leftJoin(events, and(native, eq(events.id, webhookDeliveries.eventId)))
    .leftJoin(merchants, and(native, eq(merchants.id, webhookDeliveries.merchantId)))
    .leftJoin(paymentSessions, and(eq(events.type, 'payment.authorized'), eq(paymentSessions.id, events.sessionId)))
    .where(eq(webhookDeliveries.id, slot('id', webhookDeliveries.id)))
    .prepare('delivery_for_attempt'),
);

/**
 * A delivery with what its native attempt needs, in one statement: the event and the merchant (with
 * its fault switch and its unretired signing secrets), and for payment.authorized the session as it
 * is now (not locked: what the answer acknowledges is written under a guard). Event, merchant and
 * session are null, and the secrets empty, for a Stripe-format endpoint's delivery (its event is
 * elsewhere).
 */
export async function findDeliveryForAttempt(
  db: Executor,
  id: string,
): Promise<
  | {
      delivery: DeliveryRow;
      event: EventRow | null;
      merchant: MerchantRow | null;
      session: SessionRow | null;
      faultsOn: boolean;
      secrets: UnretiredSecret[];
    }
  | undefined
> {
  const [row] = await deliveryForAttempt(db).execute({ id });
  // No merchant joined (a Stripe-format delivery): the secrets' subquery finds none, '[]'.
  return row && { ...row, faultsOn: row.faultsOn === true };
}

/** Reads and row-locks a delivery for the rest of the transaction. */
export async function lockDelivery(tx: Executor, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).for('update');
  return row;
}

type DeliveryPatch = Partial<Pick<DeliveryRow, 'attempts' | 'lastStatusCode' | 'nextAttemptAt'>>;

/**
 * The one writer of a delivery's status: applies an event to a delivery in the status the caller
 * read (or locked), as the machine allows, as a statement not yet run. The UPDATE holds only while
 * the delivery is still in that status, so a caller that did not lock it (the attempt settling a
 * pending delivery) needs no read first; it returns no row when the delivery has moved meanwhile, or
 * when `onlyIf` (a subquery of the same statement) finds nothing.
 */
export function deliveryMove(
  db: Executor,
  from: Pick<DeliveryRow, 'id' | 'status'>,
  event: DeliveryEvent,
  patch: DeliveryPatch,
  clock: Clock,
  onlyIf?: SQL,
) {
  const { state } = deliveryMachine.apply(from.status, event);
  return db
    .update(webhookDeliveries)
    .set({ ...patch, status: state, updatedAt: clock.now() })
    .where(
      and(
        eq(webhookDeliveries.id, from.id),
        eq(webhookDeliveries.status, from.status),
        onlyIf ? sql`exists (${onlyIf})` : undefined,
      ),
    )
    .returning();
}

/** Runs deliveryMove: the delivery as moved, or undefined when it had moved meanwhile. */
export async function moveDelivery(
  db: Executor,
  from: Pick<DeliveryRow, 'id' | 'status'>,
  event: DeliveryEvent,
  patch: DeliveryPatch,
  clock: Clock,
): Promise<DeliveryRow | undefined> {
  const [row] = await deliveryMove(db, from, event, patch, clock);
  return row;
}

export type AttemptValues = typeof webhookAttempts.$inferInsert;

/** One attempt of a delivery (what was sent where, and what came back), as an insert not yet run. */
export const attemptInsert = (db: Executor, attempt: AttemptValues) => db.insert(webhookAttempts).values(attempt);

/** Records one attempt of a delivery. */
export async function insertAttempt(db: Executor, attempt: AttemptValues): Promise<void> {
  await attemptInsert(db, attempt);
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
