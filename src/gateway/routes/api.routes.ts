// The merchant API under /v1, documented in /openapi.json. Bearer API key on every route; every
// POST honours Idempotency-Key. Amounts are `{ "minor": "<digits>", "currency": "EUR" }` both ways.
// Each handler parses, calls one command or query, and shapes the answer; a DomainError it throws is
// turned into its HTTP status by the app's one error mapper (src/platform/http/app.ts).
import { DomainError } from '../../core/errors.ts';
import { secretFingerprint } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import type { MiddlewareHandler } from 'hono';
import { acknowledgeByMerchant } from '../commands/acknowledge-session.ts';
import { cancelSession } from '../commands/cancel-session.ts';
import { createRefund } from '../commands/create-refund.ts';
import { createSession } from '../commands/create-session.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { resendDelivery } from '../commands/resend-delivery.ts';
import { faultConfigSchema } from '../domain/faults.ts';
import { activeSecrets } from '../storage/merchants.ts';
import { listSigningSecretsRoute } from './signing-secrets.contract.ts';
import type { EventBell } from '../storage/event-bell.ts';
import { listEvents, type EventPayload } from '../storage/events.ts';
import { nextDraw, readFaults, setFaults } from '../storage/faults.ts';
import { findSession } from '../storage/sessions.ts';
import type { MerchantRow } from '../storage/tables.ts';
import {
  acknowledgeSessionRoute,
  cancelSessionRoute,
  createRefundRoute,
  createSessionRoute,
  getFaultsRoute,
  getSessionRoute,
  listEventsRoute,
  putFaultsRoute,
  resendDeliveryRoute,
} from './api.contract.ts';
import { apiKeyAuth } from './auth.middleware.ts';
import { addBalanceRoutes } from './balance.routes.ts';
import { addDisputeRoutes } from './disputes.routes.ts';
import { addPayoutRoutes } from './payouts.routes.ts';
import { addEventLogRoutes } from './event-log.routes.ts';
import { idempotency } from './idempotency.middleware.ts';
import { addJourneyRoutes } from './journey.routes.ts';
import { refundView, sessionView } from './views.ts';
import { addWebhookSecretRoutes } from './webhook-secrets.routes.ts';

type Env = AppEnv<{ merchant: MerchantRow }>;

export interface ApiDeps {
  readonly gateway: GatewayDeps;
  readonly publicUrl: () => string;
  /** Wakes the job worker after a commit that enqueued work. */
  readonly wake?: () => void;
  /** Rung by each committed event: the event stream waits on it. */
  readonly bell: EventBell;
}

/** Injected API faults (off by default): before the idempotency claim, so a failed request left no trace. */
function apiFaults(database: Database): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (c.req.path.includes('/admin/')) return next();
    // apiKeyAuth sets faultsOn beside the merchant (the sub-routers' Env need not carry it).
    const faultsOn = c.get('faultsOn' as never) as boolean | undefined;
    const fault = await nextDraw(database.db, c.get('merchant').id, 'api', faultsOn);
    if (fault) {
      if (fault.pick('slow') < fault.config.api.slow) await new Promise((r) => setTimeout(r, fault.config.api.slow_ms));
      if (fault.pick('fail') < fault.config.api.fail)
        throw new DomainError('upstream.unavailable', { fault_injected: true });
    }
    return next();
  };
}

/** The session expiry a create request asks for: an instant, or seconds from now (30 minutes by default), at most 7 days ahead. */
function requestedExpiry(
  body: { expires_at?: string | undefined; expires_in_seconds?: number | undefined },
  clock: Clock,
): Date {
  const now = clock.now();
  const expiresAt = body.expires_at
    ? new Date(body.expires_at)
    : new Date(now.getTime() + (body.expires_in_seconds ?? 1800) * 1000);
  if (expiresAt.getTime() > now.getTime() + 7 * 86400_000)
    throw new DomainError('validation.failed', { field: 'expires_at', reason: 'more_than_7_days_ahead' });
  return expiresAt;
}

/** The /v1 router. */
export function apiRoutes(deps: ApiDeps) {
  const { gateway, publicUrl } = deps;
  const { database, clock } = gateway;
  const wake = () => deps.wake?.();
  const router = createRouter<Env>();
  router.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'Secret API key sk_test_…',
  });
  router.use('*', apiKeyAuth(database));
  router.use('*', apiFaults(database));
  router.use('*', idempotency({ database, clock }));

  router.openapi(createSessionRoute, async (c) => {
    const body = c.req.valid('json');
    const s = await createSession(gateway, {
      merchantId: c.get('merchant').id,
      amount: body.amount,
      merchantReference: body.merchant_reference,
      description: body.description,
      expiresAt: requestedExpiry(body, clock),
      returnUrl: body.return_url ?? null,
      cancelUrl: body.cancel_url ?? null,
    });
    return c.json(sessionView(s, publicUrl()), 201);
  });

  router.openapi(listSigningSecretsRoute, async (c) => {
    const secrets = await activeSecrets(database.db, c.get('merchant').id, clock.now());
    const data = secrets.map((s) => ({ object: 'webhook_secret' as const, fingerprint: secretFingerprint(s) }));
    return c.json({ object: 'list' as const, data }, 200);
  });

  router.openapi(getSessionRoute, async (c) => {
    const s = await findSession(database.db, c.req.valid('param').id, c.get('merchant').id);
    if (!s) throw new DomainError('not_found', { resource: 'payment_session' });
    return c.json(sessionView(s, publicUrl()), 200);
  });

  router.openapi(cancelSessionRoute, async (c) => {
    const s = await cancelSession(gateway, c.get('merchant').id, c.req.valid('param').id);
    wake();
    return c.json(sessionView(s, publicUrl()), 200);
  });

  router.openapi(acknowledgeSessionRoute, async (c) => {
    const s = await acknowledgeByMerchant(gateway, c.get('merchant').id, c.req.valid('param').id);
    wake();
    return c.json(sessionView(s, publicUrl()), 200);
  });

  router.openapi(createRefundRoute, async (c) => {
    const body = c.req.valid('json');
    const r = await createRefund(gateway, c.get('merchant').id, {
      sessionId: body.session_id,
      amount: body.amount,
      reason: body.reason,
    });
    wake();
    return c.json(refundView(r), 201);
  });

  addEventLogRoutes(router, { database, bell: deps.bell });
  addWebhookSecretRoutes(router, { database, clock });
  addJourneyRoutes(router, { gateway });
  addBalanceRoutes(router, { database });
  addDisputeRoutes(router, { gateway, wake });
  addPayoutRoutes(router, { database });

  router.openapi(listEventsRoute, async (c) => {
    const { after, limit } = c.req.valid('query');
    const page = await listEvents(database.db, c.get('merchant').id, BigInt(after), limit + 1);
    const shown = page.slice(0, limit);
    const data = shown.map((e) => ({ cursor: e.cursor.toString(), ...(e.payload as EventPayload) }));
    return c.json({ data, next_cursor: shown.at(-1)?.cursor.toString() ?? after, has_more: page.length > limit }, 200);
  });

  router.openapi(resendDeliveryRoute, async (c) => {
    const id = c.req.valid('param').id;
    if (!(await resendDelivery(gateway, id, c.get('merchant').id)))
      throw new DomainError('not_found', { resource: 'webhook_delivery' });
    wake();
    return c.json({ id, status: 'queued' as const }, 202);
  });

  router.openapi(putFaultsRoute, async (c) => {
    const body = c.req.valid('json');
    await setFaults(database.db, c.get('merchant').id, body, clock);
    return c.json(body, 200);
  });

  router.openapi(getFaultsRoute, async (c) => {
    const f = await readFaults(database.db, c.get('merchant').id);
    return c.json(
      f
        ? { enabled: f.enabled, seed: f.seed, config: f.config }
        : { enabled: false, seed: '', config: faultConfigSchema.parse({}) },
      200,
    );
  });

  return router;
}
