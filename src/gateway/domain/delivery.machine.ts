/**
 * A webhook delivery's life (column `webhook_deliveries.status`):
 *
 *   pending ──deliver──▶ delivered   (2xx)
 *      │ ────refuse───▶ refused      (409/422 to payment.authorized)
 *      │ ────give_up──▶ failed       (retry schedule exhausted, or the question became moot)
 *      │ ────disable──▶ disabled     (410, or the endpoint is gone or switched off)
 *      └─────retry────▶ pending      (any other answer: the next attempt is scheduled)
 *   any ──resend──▶ pending          (the merchant asks for another attempt now)
 */
import { defineMachine } from '../../core/state-machine.ts';

export const DELIVERY_STATES = ['pending', 'delivered', 'refused', 'failed', 'disabled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATES)[number];

export const DELIVERY_EVENTS = ['deliver', 'refuse', 'give_up', 'disable', 'retry', 'resend'] as const;
export type DeliveryEvent = (typeof DELIVERY_EVENTS)[number];

/** The delivery machine. */
export const deliveryMachine = defineMachine<DeliveryStatus, DeliveryEvent>({
  name: 'webhook_delivery',
  states: DELIVERY_STATES,
  events: DELIVERY_EVENTS,
  transitions: {
    pending: {
      deliver: 'delivered',
      refuse: 'refused',
      give_up: 'failed',
      disable: 'disabled',
      retry: 'pending',
      resend: 'pending',
    },
    delivered: { resend: 'pending' },
    refused: { resend: 'pending' },
    failed: { resend: 'pending' },
    disabled: { resend: 'pending' },
  },
});
