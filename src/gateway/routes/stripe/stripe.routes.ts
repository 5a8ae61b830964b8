// The gateway's Stripe-compatible /v1: Stripe's paths, form-encoded parameters, objects
// and errors over the same commands as the native API. The dispatcher (dialect.middleware.ts) hands
// it the requests of Stripe-dialect keys, with the merchant and the parsed parameters as bindings.
// Each resource registers its routes from its own file; this one wires the router and its one error
// mapper (errors.ts).
import { Hono } from 'hono';
import { DomainError } from '../../../core/errors.ts';
import type { Database } from '../../../platform/db/database.ts';
import type { EventBell } from '../../storage/event-bell.ts';
import { nextDraw } from '../../storage/faults.ts';
import { balanceRoutes } from './balance.routes.ts';
import { lookupRoutes } from './lookups.routes.ts';
import { checkoutRoutes } from './checkout.routes.ts';
import type { StripeDeps, StripeRouter } from './context.ts';
import type { StripeBindings } from './dialect.middleware.ts';
import { stripeErrorResponse } from './errors.ts';
import { stripeIdempotency } from './idempotency.ts';
import { paymentIntentRoutes } from './payment-intents.routes.ts';
import { eventRoutes } from './events.routes.ts';
import { eventStreamRoutes } from './event-stream.routes.ts';
import { payoutRoutes } from './payouts.routes.ts';
import { refundRoutes } from './refunds.routes.ts';
import { disputeRoutes } from './disputes.routes.ts';
import { webhookEndpointRoutes } from './webhook-endpoints.routes.ts';

/** Injected API faults (off by default), as on the native edge: before the idempotency claim. */
function apiFaults(database: Database) {
  return async (c: { env: StripeBindings }, next: () => Promise<void>) => {
    const fault = await nextDraw(database.db, c.env.merchant.id, 'api', c.env.faultsOn);
    if (fault) {
      if (fault.pick('slow') < fault.config.api.slow) await new Promise((r) => setTimeout(r, fault.config.api.slow_ms));
      if (fault.pick('fail') < fault.config.api.fail)
        throw new DomainError('upstream.unavailable', { fault_injected: true });
    }
    await next();
  };
}

/** The Stripe router. */
export function stripeRoutes(deps: StripeDeps & { readonly bell: EventBell }): StripeRouter {
  const { database, clock } = deps.gateway;
  const log = deps.gateway.log ?? { error: () => undefined };
  const router: StripeRouter = new Hono<{ Bindings: StripeBindings }>();
  router.onError((err, c) => {
    const { status, body } = stripeErrorResponse(err, log);
    return c.json(body, status as 400);
  });
  // Stripe's answer to a path it does not serve (a native path asked with a Stripe key lands here too).
  router.notFound((c) =>
    c.json(
      {
        error: {
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${c.req.method}: ${c.req.path.slice(0, 200)}). This gateway serves the subset of Stripe's API its README lists.`,
        },
      },
      404,
    ),
  );
  router.use('*', apiFaults(database));
  router.use('*', stripeIdempotency({ database, clock }));
  checkoutRoutes(router, deps);
  paymentIntentRoutes(router, deps);
  lookupRoutes(router, deps);
  refundRoutes(router, deps);
  disputeRoutes(router, deps);
  payoutRoutes(router, deps);
  eventStreamRoutes(router, deps);
  eventRoutes(router, deps);
  webhookEndpointRoutes(router, deps);
  balanceRoutes(router, deps);
  return router;
}
