// The demo merchant's Stripe-format webhook endpoint, from the gateway's environment:
// GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_URL and GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_SECRET, together,
// upserted at every start as an endpoint with enabled_events ['*'] (storage/webhook-endpoints.ts).
import { z } from 'zod';
import { ConfigError, parseEnv } from '../platform/config.ts';
import { webhookUrlProblem } from './domain/webhook-url.rule.ts';

/** The configured endpoint, or null when neither variable is set. */
export function loadStripeWebhookConfig(
  env: Record<string, string | undefined>,
  allowHttp: boolean,
): { url: string; secret: string } | null {
  const raw = parseEnv(
    'gateway',
    {
      GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_URL: z.url().optional(),
      // Stripe's endpoint secrets are `whsec_` and base62; the key is the whole string.
      GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_SECRET: z
        .string()
        .regex(/^whsec_[A-Za-z0-9+/=_-]{16,200}$/, 'must be a whsec_… secret')
        .optional(),
    },
    env,
  );
  const url = raw.GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_URL;
  const secret = raw.GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_SECRET;
  if ((url === undefined) !== (secret === undefined))
    throw new ConfigError(
      'gateway: invalid configuration:\n  GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_URL and GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_SECRET must be set together',
    );
  if (url === undefined || secret === undefined) return null;
  const problem = webhookUrlProblem(url, allowHttp);
  if (problem)
    throw new ConfigError(`gateway: invalid configuration:\n  GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_URL: ${problem}`);
  return { url, secret };
}
