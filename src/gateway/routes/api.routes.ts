// The merchant API under /v1, documented in /openapi.json. Bearer API key on every route; every
// POST honours Idempotency-Key. Amounts are `{ "minor": "<digits>", "currency": "EUR" }` both ways.
import { createRoute, z } from '@hono/zod-openapi';
import { DomainError } from '../../core/errors.ts';
import { fromJSON, money, toJSON, type Currency } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { resendDelivery } from '../jobs/deliver-webhook.ts';
import type { Payments } from '../payments.ts';
import { faultConfigSchema } from '../domain/faults.ts';
import { listEvents, type EventPayload } from '../storage/events.ts';
import { nextDraw, readFaults, setFaults } from '../storage/faults.ts';
import { findSession } from '../storage/sessions.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { apiKeyAuth } from './auth.middleware.ts';
import { idempotency } from './idempotency.middleware.ts';
import { errorSchema, eventSchema, moneySchema, refundSchema, sessionSchema, sessionView } from './views.ts';

type Env = AppEnv<{ merchant: MerchantRow }>;

export interface ApiDeps {
  readonly database: Database;
  readonly payments: Payments;
  readonly clock: Clock;
  readonly publicUrl: () => string;
  /** Wakes the job worker after a commit that enqueued work. */
  readonly wake?: () => void;
}

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
    expires_at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'When the session stops being payable. Default: 30 minutes after creation.' }),
    expires_in_seconds: z.number().int().min(60).max(7 * 86400).optional().openapi({ description: 'Alternative to expires_at.' }),
    return_url: httpUrl.optional(),
    cancel_url: httpUrl.optional(),
  })
  .refine((b) => !(b.expires_at && b.expires_in_seconds), { message: 'give expires_at or expires_in_seconds, not both', path: ['expires_at'] })
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
  409: { description: 'Conflict with the current state, or idempotency.in_progress', content: { 'application/json': { schema: errorSchema } } },
  422: { description: 'Validation failed, or idempotency.key_reused', content: { 'application/json': { schema: errorSchema } } },
} as const;

const security = [{ bearerAuth: [] }];

/** The /v1 router. */
export function apiRoutes(deps: ApiDeps) {
  const { database, payments, clock, publicUrl } = deps;
  const router = createRouter<Env>();
  router.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'Secret API key sk_test_…' });
  router.use('*', apiKeyAuth(database));
  // Injected API faults (off by default): before the idempotency claim, so a failed request left no trace.
  router.use('*', async (c, next) => {
    if (c.req.path.includes('/admin/')) return next();
    const fault = await nextDraw(database.db, c.get('merchant').id, 'api');
    if (fault) {
      if (fault.pick('slow') < fault.config.api.slow) await new Promise((r) => setTimeout(r, fault.config.api.slow_ms));
      if (fault.pick('fail') < fault.config.api.fail) throw new DomainError('upstream.unavailable', { fault_injected: true });
    }
    return next();
  });
  router.use('*', idempotency({ database, clock }));

  const idParam = z.object({ id: z.string().min(1).max(64) });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/payment_sessions',
      security,
      summary: 'Create a payment session',
      request: { headers: idempotencyHeader, body: { required: true, content: { 'application/json': { schema: createSessionBody } } } },
      responses: { 201: { description: 'Created', content: { 'application/json': { schema: sessionSchema } } }, ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const now = clock.now();
      const expiresAt = body.expires_at ? new Date(body.expires_at) : new Date(now.getTime() + (body.expires_in_seconds ?? 1800) * 1000);
      if (expiresAt.getTime() > now.getTime() + 7 * 86400_000) throw new DomainError('validation.failed', { field: 'expires_at', reason: 'more_than_7_days_ahead' });
      const s = await payments.createSession({
        merchantId: c.get('merchant').id,
        amount: body.amount,
        merchantReference: body.merchant_reference,
        description: body.description,
        expiresAt,
        returnUrl: body.return_url ?? null,
        cancelUrl: body.cancel_url ?? null,
      });
      return c.json(sessionView(s, publicUrl()), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/payment_sessions/{id}',
      security,
      summary: 'Retrieve a payment session (authoritative status, including the acknowledgement)',
      request: { params: idParam },
      responses: { 200: { description: 'The session', content: { 'application/json': { schema: sessionSchema } } }, ...errors },
    }),
    async (c) => {
      const s = await findSession(database.db, c.req.valid('param').id, c.get('merchant').id);
      if (!s) throw new DomainError('not_found', { resource: 'payment_session' });
      return c.json(sessionView(s, publicUrl()), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/payment_sessions/{id}/cancel',
      security,
      summary: 'Cancel a session that has not been paid (only from status created)',
      request: { params: idParam, headers: idempotencyHeader },
      responses: { 200: { description: 'The canceled session', content: { 'application/json': { schema: sessionSchema } } }, ...errors },
    }),
    async (c) => {
      const s = await payments.cancelSession(c.get('merchant').id, c.req.valid('param').id);
      deps.wake?.();
      return c.json(sessionView(s, publicUrl()), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/payment_sessions/{id}/acknowledge',
      security,
      summary: 'Accept an authorisation the webhook did not bring (read from the event feed or a status read): the same acknowledgement as a 2xx to payment.authorized, within the same window; a repeat is a no-op',
      request: { params: idParam, headers: idempotencyHeader },
      responses: { 200: { description: 'The acknowledged session (captured soon after)', content: { 'application/json': { schema: sessionSchema } } }, ...errors },
    }),
    async (c) => {
      const s = await payments.acknowledgeByMerchant(c.get('merchant').id, c.req.valid('param').id);
      deps.wake?.();
      return c.json(sessionView(s, publicUrl()), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/refunds',
      security,
      summary: 'Refund part or all of a captured payment (the total never exceeds the captured amount)',
      request: { headers: idempotencyHeader, body: { required: true, content: { 'application/json': { schema: refundBody } } } },
      responses: { 201: { description: 'Created', content: { 'application/json': { schema: refundSchema } } }, ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const r = await payments.createRefund(c.get('merchant').id, { sessionId: body.session_id, amount: body.amount, reason: body.reason });
      deps.wake?.();
      return c.json(
        {
          id: r.id,
          object: 'refund' as const,
          session_id: r.sessionId,
          amount: toJSON(money(r.amountMinor, r.currency as Currency)),
          reason: r.reason,
          status: r.status,
          created_at: r.createdAt.toISOString(),
        },
        201,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      security,
      summary: 'The event feed after a cursor, oldest first (what a shop reconciles from)',
      request: {
        query: z.object({
          after: z.string().regex(/^(0|[1-9][0-9]{0,18})$/).default('0').openapi({ description: 'cursor of the last event seen; 0 for the start' }),
          limit: z.coerce.number().int().min(1).max(100).default(50),
        }),
      },
      responses: {
        200: {
          description: 'A page of events',
          content: { 'application/json': { schema: z.object({ data: z.array(eventSchema), next_cursor: z.string(), has_more: z.boolean() }) } },
        },
        ...errors,
      },
    }),
    async (c) => {
      const { after, limit } = c.req.valid('query');
      const page = await listEvents(database.db, c.get('merchant').id, BigInt(after), limit + 1);
      const shown = page.slice(0, limit);
      const data = shown.map((e) => ({ cursor: e.cursor.toString(), ...(e.payload as EventPayload) }));
      return c.json({ data, next_cursor: shown.at(-1)?.cursor.toString() ?? after, has_more: page.length > limit }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/webhook_deliveries/{id}/resend',
      security,
      summary: 'Send a webhook delivery again now',
      request: { params: idParam, headers: idempotencyHeader },
      responses: { 202: { description: 'Queued', content: { 'application/json': { schema: z.object({ id: z.string(), status: z.literal('queued') }) } } }, ...errors },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      if (!(await resendDelivery(database, id, c.get('merchant').id, clock))) throw new DomainError('not_found', { resource: 'webhook_delivery' });
      deps.wake?.();
      return c.json({ id, status: 'queued' as const }, 202);
    },
  );

  const faultBody = z
    .object({
      enabled: z.boolean(),
      seed: z.string().min(1).max(200).openapi({ description: 'Same seed + same order of operations = same faults.' }),
      config: faultConfigSchema.default({ webhooks: { drop: 0, drop_permanently: false, duplicate: 0, duplicate_copies: 1, reorder: 0, reorder_window_ms: 0, delay: 0, delay_ms: 0 }, api: { fail: 0, slow: 0, slow_ms: 0 } }),
    })
    .openapi('FaultInjection');

  router.openapi(
    createRoute({
      method: 'put',
      path: '/admin/fault_injection',
      security,
      summary: 'Switch fault injection for this merchant (test mode): drop/duplicate/reorder/delay webhooks, fail/slow API calls; rates 0..1',
      request: { body: { required: true, content: { 'application/json': { schema: faultBody } } } },
      responses: { 200: { description: 'The settings now in force', content: { 'application/json': { schema: faultBody } } }, ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      await setFaults(database.db, c.get('merchant').id, body, clock);
      return c.json(body, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/admin/fault_injection',
      security,
      summary: 'Read this merchant\'s fault injection settings',
      responses: { 200: { description: 'Settings (enabled false when never set)', content: { 'application/json': { schema: faultBody } } }, ...errors },
    }),
    async (c) => {
      const f = await readFaults(database.db, c.get('merchant').id);
      return c.json(f ? { enabled: f.enabled, seed: f.seed, config: f.config } : { enabled: false, seed: '', config: faultConfigSchema.parse({}) }, 200);
    },
  );

  return router;
}
