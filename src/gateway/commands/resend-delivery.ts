// The merchant asks for a webhook delivery to be sent again now (API and dashboard).
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { DELIVER_WEBHOOK_TASK } from '../jobs/task-names.ts';
import { lockDelivery, moveDelivery } from '../storage/deliveries.ts';

/** Queues a new attempt of a delivery now; false when it is not this merchant's (or does not exist). */
export async function resendDelivery(
  deps: { database: Database; clock: Clock },
  deliveryId: string,
  merchantId: string,
): Promise<boolean> {
  const { database, clock } = deps;
  return database.transaction(async (tx) => {
    const d = await lockDelivery(tx, deliveryId);
    if (!d || d.merchantId !== merchantId) return false;
    const next = d.attempts + 1;
    await moveDelivery(tx, d, 'resend', { nextAttemptAt: clock.now() }, clock);
    await enqueue(
      tx,
      {
        task: DELIVER_WEBHOOK_TASK,
        payload: { deliveryId, attempt: next },
        key: `${deliveryId}:${next}:resend`,
        maxAttempts: 3,
      },
      clock,
    );
    return true;
  });
}
