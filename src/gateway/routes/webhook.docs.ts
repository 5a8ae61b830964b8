// Documents the webhooks the gateway sends (OpenAPI 3.1 `webhooks`), including the acknowledgement
// rule and the retry schedule, so /openapi.json is the whole contract a shop needs.
import type { OpenAPIHono } from '@hono/zod-openapi';

type OpenAPIRegistry = OpenAPIHono['openAPIRegistry'];
import { z } from '@hono/zod-openapi';
import { WEBHOOK_RETRY_SCHEDULE_SECONDS } from '../domain/webhook.schedule.ts';
import { errorSchema, eventSchema } from './views.ts';

/** Registers the payment event webhook in the service's OpenAPI registry. */
export function documentWebhooks(registry: OpenAPIRegistry): void {
  const schedule = WEBHOOK_RETRY_SCHEDULE_SECONDS.map((s) =>
    s < 60 ? `${s}s` : s < 3600 ? `${s / 60}m` : `${s / 3600}h`,
  ).join(', ');
  registry.registerWebhook({
    method: 'post',
    path: 'payment_event',
    summary: 'A payment session changed (sent to the merchant webhook URL)',
    description: [
      'Standard Webhooks: headers webhook-id (= event id, the same on every retry: dedupe on it), webhook-timestamp, webhook-signature',
      '(`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per active signing secret, space-separated) over the exact body bytes.',
      'Events: payment.requires_approval, payment.authorized, payment.captured, payment.voided, payment.declined, payment.expired,',
      'payment.canceled, payment.partially_refunded, payment.refunded. Order is not guaranteed: use data.sequence to ignore stale events.',
      "ACKNOWLEDGEMENT: answering 2xx to payment.authorized within the merchant's acknowledgement window (default 15 min) makes the",
      'gateway capture (then payment.captured). 409 or 422 refuses it: the authorisation is voided at once (payment.voided, reason =',
      'your error.code). No 2xx within the window: voided (reason acknowledgement_timeout). 410 disables the endpoint.',
      `Other answers and timeouts (10 s) are retried after ${schedule} (±20 % jitter), then given up.`,
    ].join(' '),
    request: {
      headers: z.object({ 'webhook-id': z.string(), 'webhook-timestamp': z.string(), 'webhook-signature': z.string() }),
      body: { content: { 'application/json': { schema: eventSchema.omit({ cursor: true }) } } },
    },
    responses: {
      200: { description: 'Accepted (for payment.authorized: acknowledged, the payment is captured)' },
      409: {
        description: 'Refused (payment.authorized only): the payment is voided',
        content: { 'application/json': { schema: errorSchema } },
      },
      410: { description: 'Endpoint gone: deliveries are disabled until re-enabled in the dashboard' },
    },
  });
}
