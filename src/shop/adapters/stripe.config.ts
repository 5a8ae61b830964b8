// Which gateway the shop pays through, and Stripe's settings when it is Stripe (SHOP_GATEWAY,
// SHOP_STRIPE_*). `ours` (the default) keeps the native adapter and its SHOP_GATEWAY_* variables.
import { z } from 'zod';
import { ConfigError, parseEnv } from '../../platform/config.ts';

/** Stripe's hosted Checkout page, where "Pay now" redirects the browser (the CSP's form-action allows it). */
export const STRIPE_CHECKOUT_ORIGIN = 'https://checkout.stripe.com';

export interface StripeConfig {
  readonly gateway: 'ours' | 'stripe';
  /** `sk_test_…` (or live/restricted); required when the gateway is Stripe. */
  readonly secretKey: string | undefined;
  /** The webhook endpoint's signing secrets; several while rotating. */
  readonly webhookSecrets: readonly string[];
  /** Unset: Stripe itself. Set: the API's host/port/protocol (our gateway's Stripe dialect, a mock). */
  readonly apiUrl: string | undefined;
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Parses SHOP_GATEWAY and SHOP_STRIPE_*; a bad one stops the start with its name (never its value). */
export function loadStripeConfig(env: Record<string, string | undefined> = process.env): StripeConfig {
  const raw = parseEnv(
    'shop',
    {
      SHOP_GATEWAY: z.enum(['ours', 'stripe']).default('ours'),
      SHOP_STRIPE_SECRET_KEY: z
        .string()
        .regex(/^(sk|rk)_(test|live)_[0-9A-Za-z_-]{8,}$/, 'a Stripe secret key (sk_test_…)')
        .optional(),
      SHOP_STRIPE_WEBHOOK_SECRETS: z
        .string()
        .optional()
        .transform(list)
        .refine((l) => l.every((x) => x.startsWith('whsec_')), 'each secret starts with whsec_'),
      SHOP_STRIPE_API_URL: z.url({ protocol: /^https?$/ }).optional(),
    },
    env,
  );
  if (raw.SHOP_GATEWAY === 'stripe' && !raw.SHOP_STRIPE_SECRET_KEY)
    throw new ConfigError('shop: invalid configuration:\n  SHOP_STRIPE_SECRET_KEY: required when SHOP_GATEWAY=stripe');
  return Object.freeze({
    gateway: raw.SHOP_GATEWAY,
    secretKey: raw.SHOP_STRIPE_SECRET_KEY,
    webhookSecrets: Object.freeze(raw.SHOP_STRIPE_WEBHOOK_SECRETS),
    apiUrl: raw.SHOP_STRIPE_API_URL,
  });
}
