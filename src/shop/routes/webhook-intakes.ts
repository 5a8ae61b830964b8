// Wiring of the shop's webhook intakes (main.ts calls it): our gateway's, verified with the configured
// secrets and those learnt by rotation (`countersign secrets rotate`, kept in the database), and
// Stripe's when SHOP_GATEWAY=stripe. Beside the shop's pages, not behind its session middleware.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/log.ts';
import type { StripeGateway } from '../adapters/gateway.stripe.ts';
import type { ShopConfig } from '../main.ts';
import type { RefusalLimits } from '../storage/webhook-refusals.ts';
import { webhookKeyring, type WebhookKeyring } from '../storage/webhook-secrets.ts';
import { clientAddress } from './session.ts';
import { stripeWebhookRoutes } from './stripe-webhook.routes.ts';
import { webhookRoutes } from './webhook.routes.ts';

/** Mounts the intakes; returns the keyring of our gateway's intake (a rotation tells it to read again). */
export function mountWebhookIntakes(
  app: OpenAPIHono<AppEnv>,
  deps: {
    config: ShopConfig;
    database: Database;
    clock: Clock;
    log: Logger;
    stripe: StripeGateway | undefined;
    refusalLimits: RefusalLimits;
  },
): WebhookKeyring {
  const { config, database, clock, log, stripe, refusalLimits } = deps;
  const p = config.payments;
  const addressOf = (c: Parameters<typeof clientAddress>[0]) => clientAddress(c, config.settings.trustedProxyHops);
  const keyring = webhookKeyring({ database, configured: p.webhookSecrets, log });
  webhookRoutes(app, { database, clock, log, secrets: p.webhookSecrets, keyring, refusalLimits, addressOf });
  if (p.webhookSecrets.length === 0 && !stripe)
    log.warn({}, 'SHOP_GATEWAY_WEBHOOK_SECRETS is not set: webhooks will be refused');
  if (stripe) {
    stripeWebhookRoutes(app, {
      database,
      clock,
      log,
      gateway: stripe,
      secrets: config.stripe.webhookSecrets,
      refusalLimits,
      addressOf,
    });
    if (config.stripe.webhookSecrets.length === 0)
      log.warn({}, 'SHOP_STRIPE_WEBHOOK_SECRETS is not set: Stripe webhooks will be refused');
  }
  return keyring;
}
