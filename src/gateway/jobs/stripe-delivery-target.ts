// A delivery to a Stripe-format webhook endpoint: the stored event JSON, byte for byte the same on
// every attempt, signed `Stripe-Signature: t=…,v1=…` with the endpoint's own secret (never logged).
import type { Executor } from '../../platform/db/database.ts';
import { stripeSignatureHeader } from '../../core/stripe-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import { findStripeEvent } from '../storage/stripe-events.ts';
import type { DeliveryRow } from '../storage/tables.ts';
import { endpointById, lockWebhookEndpoint, moveWebhookEndpoint } from '../storage/webhook-endpoints.ts';
import type { DeliveryTarget } from './delivery-target.ts';

/** The message of a Stripe endpoint's delivery, or null when the event or an enabled endpoint is gone. */
export async function stripeDeliveryTarget(
  db: Executor,
  delivery: DeliveryRow,
  clock: Clock,
): Promise<DeliveryTarget | null> {
  const endpoint = await endpointById(db, delivery.webhookEndpointId!);
  const event = await findStripeEvent(db, delivery.merchantId, delivery.eventId);
  if (!event || endpoint?.status !== 'enabled' || endpoint.merchantId !== delivery.merchantId) return null;
  const body = JSON.stringify(event.payload, null, 2);
  return {
    stripe: true,
    url: endpoint.url,
    body,
    eventId: event.id,
    type: event.type,
    sessionId: event.sessionId,
    merchantId: event.merchantId,
    endpointId: endpoint.id,
    sign: async (at) => ({ 'stripe-signature': stripeSignatureHeader(endpoint.secret, at, body) }),
    disableEndpoint: async (tx) => {
      const locked = await lockWebhookEndpoint(tx, endpoint.merchantId, endpoint.id);
      if (locked) await moveWebhookEndpoint(tx, locked, 'disable', clock);
    },
  };
}
