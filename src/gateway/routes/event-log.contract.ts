// The contract of the event log's read side beyond the feed: one event with its deliveries and
// attempts, and the live stream of a merchant's events (Server-Sent Events, resumable by cursor).
import { createRoute, z } from '@hono/zod-openapi';
import { errorSchema, eventSchema } from './views.ts';

const security = [{ bearerAuth: [] }];
const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

const attemptSchema = z
  .object({
    attempt: z.number().int(),
    url: z.string(),
    status_code: z.number().int().nullable(),
    latency_ms: z.number().int(),
    error: z.string().nullable(),
    response_excerpt: z.string().nullable(),
    at: z.string(),
  })
  .openapi('WebhookAttempt');

export const deliverySchema = z
  .object({
    id: z.string().openapi({ example: 'whd_01JA...' }),
    status: z.string().openapi({ description: 'pending | delivered | refused | failed | disabled' }),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    next_attempt_at: z.string().nullable(),
    attempt_log: z.array(attemptSchema),
  })
  .openapi('WebhookDelivery');

export const getEventRoute = createRoute({
  method: 'get',
  path: '/events/{id}',
  security,
  summary: 'One event of the feed with its webhook deliveries and every attempt',
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: {
    200: {
      description: 'The event',
      content: json(eventSchema.extend({ deliveries: z.array(deliverySchema) }).openapi('EventWithDeliveries')),
    },
    401: { description: 'Missing or invalid API key', content: json(errorSchema) },
    404: { description: 'No such event for this merchant', content: json(errorSchema) },
  },
});

export const streamEventsRoute = createRoute({
  method: 'get',
  path: '/events/stream',
  security,
  summary: "The merchant's events as they are committed (Server-Sent Events)",
  description:
    'Each event is one SSE message: `id` = its feed cursor, `event` = its type, `data` = the Event JSON. ' +
    'Resume after a disconnect with the `Last-Event-ID` header (or `?after=`): nothing is lost or repeated. ' +
    'A comment line is sent every 15 s while idle.',
  request: {
    query: z.object({
      after: z
        .string()
        .regex(/^(0|[1-9][0-9]{0,18})$/)
        .optional()
        .openapi({ description: 'cursor to start after; default: the newest event (only what happens from now)' }),
    }),
    headers: z.object({
      'last-event-id': z
        .string()
        .regex(/^(0|[1-9][0-9]{0,18})$/)
        .optional()
        .openapi({ description: 'the cursor of the last event received (wins over ?after=)' }),
    }),
  },
  responses: {
    200: { description: 'The stream', content: { 'text/event-stream': { schema: z.string() } } },
    401: { description: 'Missing or invalid API key', content: json(errorSchema) },
  },
});
