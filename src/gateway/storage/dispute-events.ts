// The events of a dispute, in the transaction of its change: a native event in the merchant's feed
// (`dispute.created` | `dispute.updated` | `dispute.closed`, `data.object` = the dispute, beside the
// session fields every feed entry carries) and, as for payments, its delivery to the merchant's
// webhook URL; for a payment opened through the Stripe API, Stripe's `charge.dispute.*` events to the
// merchant's Stripe endpoints instead.
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { disputeView } from '../routes/dispute-view.ts';
import { disputeObject } from '../routes/stripe/dispute-object.ts';
import type { DisputeRow } from './dispute-tables.ts';
import { appendNativeEvent, insertFeedEvent } from './events.ts';
import { insertStripeEvent } from './stripe-events.ts';
import { STRIPE_API_VERSION } from './stripe-projection.ts';
import type { SessionRow } from './tables.ts';

export type DisputeEventType = 'dispute.created' | 'dispute.updated' | 'dispute.closed';

/** Appends a dispute's event (native, and Stripe's for a Stripe payment) with its deliveries. */
export async function appendDisputeEvent(
  tx: Executor,
  input: { dispute: DisputeRow; session: SessionRow; type: DisputeEventType },
  clock: Clock,
): Promise<void> {
  const { dispute, session } = input;
  const now = clock.now();
  const id = newId('evt', now);
  const payload = {
    id,
    type: input.type,
    created_at: now.toISOString(),
    data: {
      session_id: session.id,
      merchant_reference: session.merchantReference,
      amount: { minor: dispute.amountMinor.toString(), currency: dispute.currency },
      status: dispute.status,
      sequence: session.sequence,
      object: disputeView(dispute),
    },
  };
  const event = {
    id,
    merchantId: session.merchantId,
    type: input.type,
    sessionId: session.id,
    sequence: session.sequence,
    payload,
    createdAt: now,
  };
  if (session.api !== 'stripe') {
    await appendNativeEvent(tx, event, clock);
    return;
  }
  await insertFeedEvent(tx, event);
  const type = `charge.${input.type}`;
  const object = disputeObject(dispute, now, session.cardBrand);
  await insertStripeEvent(
    tx,
    {
      merchantId: session.merchantId,
      sessionId: session.id,
      type,
      build: (eventId, pending, created) => ({
        id: eventId,
        object: 'event',
        api_version: STRIPE_API_VERSION,
        created,
        data: { object },
        livemode: false,
        pending_webhooks: pending,
        request: { id: null, idempotency_key: null },
        type,
      }),
    },
    clock,
  );
}
