// What every Stripe resource route shares: its dependencies, the router type, and the lookup of a
// Stripe id that answers the same 404 for what does not exist and for what is not this merchant's.
import type { Hono } from 'hono';
import type { Database } from '../../../platform/db/database.ts';
import type { GatewayDeps } from '../../commands/deps.ts';
import type { WebhookNetworks } from '../../domain/webhook-url.rule.ts';
import { findSession } from '../../storage/sessions.ts';
import type { SessionRow } from '../../storage/tables.ts';
import type { StripeBindings } from './dialect.middleware.ts';
import { resourceMissing } from './errors.ts';
import { stripeIds } from './objects.ts';

/** The Stripe router's type: resources add their routes to it. */
export type StripeRouter = Hono<{ Bindings: StripeBindings }>;

export interface StripeDeps {
  readonly gateway: GatewayDeps;
  readonly publicUrl: () => string;
  /** Wakes the job worker after a commit that enqueued work. */
  readonly wake: () => void;
  /** GATEWAY_ALLOW_HTTP_WEBHOOKS: webhook endpoints may be plain http beyond loopback. */
  readonly allowHttpWebhooks?: boolean;
  /** GATEWAY_WEBHOOK_NETWORKS: which addresses a registered endpoint URL may lead to (default loopback). */
  readonly webhookNetworks?: WebhookNetworks;
}

const NAMES = { cs: 'checkout.session', pi: 'payment_intent', ch: 'charge' } as const;

/**
 * A Stripe session of this merchant behind a Stripe id, or 404 resource_missing — the same answer
 * for an id that does not exist, another merchant's, or a native session's.
 */
export async function stripeSession(
  database: Database,
  merchantId: string,
  id: string,
  prefix: 'cs' | 'pi' | 'ch',
  param = 'id',
): Promise<SessionRow> {
  const sessionId = stripeIds.sessionOf(id, prefix);
  const s = sessionId ? await findSession(database.db, sessionId, merchantId) : undefined;
  if (!s || s.api !== 'stripe' || (prefix === 'cs' && !s.stripe?.checkout))
    throw resourceMissing(NAMES[prefix], id, param);
  return s;
}
