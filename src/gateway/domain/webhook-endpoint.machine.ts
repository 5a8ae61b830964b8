/**
 * A Stripe-format webhook endpoint's life (column `webhook_endpoints.status`):
 *
 *   enabled ──disable──▶ disabled   (the merchant's `disabled=true`, or a 410 from the endpoint)
 *   disabled ──enable──▶ enabled    (the merchant's `disabled=false`)
 *   enabled | disabled ──delete──▶ deleted   (DELETE: kept for its deliveries' history, never shown)
 *
 * Only `enabled` endpoints get deliveries; a pending delivery to an endpoint no longer enabled is
 * settled `disabled` at its next attempt.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const WEBHOOK_ENDPOINT_STATES = ['enabled', 'disabled', 'deleted'] as const;
export type WebhookEndpointStatus = (typeof WEBHOOK_ENDPOINT_STATES)[number];

export const WEBHOOK_ENDPOINT_EVENTS = ['enable', 'disable', 'delete'] as const;
export type WebhookEndpointEvent = (typeof WEBHOOK_ENDPOINT_EVENTS)[number];

/** The webhook endpoint machine. */
export const webhookEndpointMachine = defineMachine<WebhookEndpointStatus, WebhookEndpointEvent>({
  name: 'webhook_endpoint',
  states: WEBHOOK_ENDPOINT_STATES,
  events: WEBHOOK_ENDPOINT_EVENTS,
  transitions: {
    enabled: { enable: 'enabled', disable: 'disabled', delete: 'deleted' },
    disabled: { enable: 'enabled', disable: 'disabled', delete: 'deleted' },
  },
});
