// The merchant registers a Stripe-format webhook endpoint (POST /v1/webhook_endpoints): a fresh
// `whsec_…` secret is made for it, returned once by the route and never shown again.
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { newStripeEndpointSecret } from '../../core/stripe-signature.ts';
import type { WebhookEndpointRow } from '../storage/stripe-tables.ts';
import { insertWebhookEndpoint } from '../storage/webhook-endpoints.ts';

/** Creates an enabled endpoint with a new secret; the input is already validated by the edge. */
export function createWebhookEndpoint(
  deps: { database: Database; clock: Clock },
  input: {
    merchantId: string;
    url: string;
    enabledEvents: string[];
    description: string | null;
    metadata: Record<string, string>;
  },
): Promise<WebhookEndpointRow> {
  return insertWebhookEndpoint(deps.database.db, { ...input, secret: newStripeEndpointSecret() }, deps.clock);
}
