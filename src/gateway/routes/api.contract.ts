// The contract of the merchant API under /v1: request and response schemas and the OpenAPI route
// definitions (documented in /openapi.json). The handlers are in api.routes.ts.
import { createRoute, z } from '@hono/zod-openapi';
import { DomainError } from '../../core/errors.ts';
import { fromJSON } from '../../core/money.ts';
import { faultConfigSchema } from '../domain/faults.ts';
import { errorSchema, eventSchema, moneySchema, refundSchema, sessionSchema } from './views.ts';

const positiveMoney = moneySchema.transform((v, ctx) => {
  try {
    const m = fromJSON(v);
    if (m.minor <= 0n) throw new DomainError('money.invalid');
    return m;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a positive amount in minor units with a supported currency' });
    return z.NEVER;
  }
});

const httpUrl = z.url({ protocol: /^https?$/ }).max(2000);

const createSessionBody = z
  .object({
    amount: positiveMoney,
    merchant_reference: z.string().min(1).max(200),
    description: z.string().max(500).default(''),
    expires_at: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'When the session stops being payable. Default: 30 minutes after creation.' }),
    expires_in_seconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86400)
      .optional()
      .openapi({ description: 'Alternative to expires_at.' }),
    return_url: httpUrl.optional(),
    cancel_url: httpUrl.optional(),
  })
  .refine((b) => !(b.expires_at && b.expires_in_seconds), {
    message: 'give expires_at or expires_in_seconds, not both',
    path: ['expires_at'],
  })
  .openapi('CreatePaymentSession');

const refundBody = z
  .object({ session_id: z.string().min(1).max(64), amount: positiveMoney, reason: z.string().max(500).default('') })
  .openapi('CreateRefund');

const idempotencyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({ description: 'Makes the POST safe to retry; kept 24 h.' }),
});

const errors = {
  400: { description: 'Malformed request', content: { 'application/json': { schema: errorSchema } } },
  401: { description: 'Missing or invalid API key', content: { 'application/json': { schema: errorSchema } } },
  404: { description: 'Not found', content: { 'application/json': { schema: errorSchema } } },
  409: {
    description: 'Conflict with the current state, or idempotency.in_progress',
    content: { 'application/json': { schema: errorSchema } },
  },
  422: {
    description: 'Validation failed, or idempotency.key_reused',
    content: { 'application/json': { schema: errorSchema } },
  },
} as const;

const security = [{ bearerAuth: [] }];

const idParam = z.object({ id: z.string().min(1).max(64) });

export const faultBody = z
  .object({
    enabled: z.boolean(),
    seed: z.string().min(1).max(200).openapi({ description: 'Same seed + same order of operations = same faults.' }),
    config: faultConfigSchema.default({
      webhooks: {
        drop: 0,
        drop_permanently: false,
        duplicate: 0,
        duplicate_copies: 1,
        reorder: 0,
        reorder_window_ms: 0,
        delay: 0,
        delay_ms: 0,
      },
      api: { fail: 0, slow: 0, slow_ms: 0 },
    }),
  })
  .openapi('FaultInjection');

export const createSessionRoute = createRoute({
  method: 'post',
  path: '/payment_sessions',
  security,
  summary: 'Create a payment session',
  request: {
    headers: idempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: createSessionBody } } },
  },
  responses: { 201: { description: 'Created', content: { 'application/json': { schema: sessionSchema } } }, ...errors },
});

export const getSessionRoute = createRoute({
  method: 'get',
  path: '/payment_sessions/{id}',
  security,
  summary: 'Retrieve a payment session (authoritative status, including the acknowledgement)',
  request: { params: idParam },
  responses: {
    200: { description: 'The session', content: { 'application/json': { schema: sessionSchema } } },
    ...errors,
  },
});

export const cancelSessionRoute = createRoute({
  method: 'post',
  path: '/payment_sessions/{id}/cancel',
  security,
  summary: 'Cancel a session that has not been paid (only from status created)',
  request: { params: idParam, headers: idempotencyHeader },
  responses: {
    200: { description: 'The canceled session', content: { 'application/json': { schema: sessionSchema } } },
    ...errors,
  },
});

export const acknowledgeSessionRoute = createRoute({
  method: 'post',
  path: '/payment_sessions/{id}/acknowledge',
  security,
  summary:
    'Accept an authorisation the webhook did not bring (read from the event feed or a status read): the same acknowledgement as a 2xx to payment.authorized, within the same window; a repeat is a no-op',
  request: { params: idParam, headers: idempotencyHeader },
  responses: {
    200: {
      description: 'The acknowledged session (captured soon after)',
      content: { 'application/json': { schema: sessionSchema } },
    },
    ...errors,
  },
});

export const createRefundRoute = createRoute({
  method: 'post',
  path: '/refunds',
  security,
  summary: 'Refund part or all of a captured payment (the total never exceeds the captured amount)',
  request: {
    headers: idempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: refundBody } } },
  },
  responses: { 201: { description: 'Created', content: { 'application/json': { schema: refundSchema } } }, ...errors },
});

export const listEventsRoute = createRoute({
  method: 'get',
  path: '/events',
  security,
  summary: 'The event feed after a cursor, oldest first (what a shop reconciles from)',
  request: {
    query: z.object({
      after: z
        .string()
        .regex(/^(0|[1-9][0-9]{0,18})$/)
        .default('0')
        .openapi({ description: 'cursor of the last event seen; 0 for the start' }),
      limit: z.coerce.number().int().min(1).max(100).default(50),
    }),
  },
  responses: {
    200: {
      description: 'A page of events',
      content: {
        'application/json': {
          schema: z.object({ data: z.array(eventSchema), next_cursor: z.string(), has_more: z.boolean() }),
        },
      },
    },
    ...errors,
  },
});

export const resendDeliveryRoute = createRoute({
  method: 'post',
  path: '/webhook_deliveries/{id}/resend',
  security,
  summary: 'Send a webhook delivery again now',
  request: { params: idParam, headers: idempotencyHeader },
  responses: {
    202: {
      description: 'Queued',
      content: { 'application/json': { schema: z.object({ id: z.string(), status: z.literal('queued') }) } },
    },
    ...errors,
  },
});

export const putFaultsRoute = createRoute({
  method: 'put',
  path: '/admin/fault_injection',
  security,
  summary:
    'Switch fault injection for this merchant (test mode): drop/duplicate/reorder/delay webhooks, fail/slow API calls; rates 0..1',
  request: { body: { required: true, content: { 'application/json': { schema: faultBody } } } },
  responses: {
    200: { description: 'The settings now in force', content: { 'application/json': { schema: faultBody } } },
    ...errors,
  },
});

export const getFaultsRoute = createRoute({
  method: 'get',
  path: '/admin/fault_injection',
  security,
  summary: "Read this merchant's fault injection settings",
  responses: {
    200: {
      description: 'Settings (enabled false when never set)',
      content: { 'application/json': { schema: faultBody } },
    },
    ...errors,
  },
});
