// The delivery state of order-status events per endpoint, read from the jobs that carry them (staff console).
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { jobs } from '../../platform/jobs/jobs.schema.ts';
import { ENDPOINT_DELIVERY_TASK } from './order-status-outbox.ts';

/** One event's delivery to one endpoint, as staff see it. */
export interface DeliveryRow {
  readonly eventId: string;
  readonly endpoint: string;
  readonly status: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextTryAt: Date | null;
  readonly updatedAt: Date;
}

/** Deliveries newest first, optionally of one order's events. */
export async function listDeliveries(
  db: Executor,
  options: { orderId?: string; limit?: number } = {},
): Promise<DeliveryRow[]> {
  const where = options.orderId
    ? and(
        eq(jobs.task, ENDPOINT_DELIVERY_TASK),
        sql`${jobs.payload}->>'eventId' in (select id from order_status_events where order_id = ${options.orderId})`,
      )
    : eq(jobs.task, ENDPOINT_DELIVERY_TASK);
  const rows = await db
    .select()
    .from(jobs)
    .where(where)
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(options.limit ?? 100);
  return rows.map((j) => {
    const p = j.payload as { eventId: string; endpoint: string };
    return {
      eventId: p.eventId,
      endpoint: p.endpoint,
      status: j.status,
      attempts: j.attempts,
      lastError: j.lastError,
      nextTryAt: j.status === 'pending' ? j.runAt : null,
      updatedAt: j.updatedAt,
    };
  });
}
