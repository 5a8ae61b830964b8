// Composition root of the gateway: reads its configuration, wires storage, routes and jobs by hand.
import { AsyncResource } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { systemClock, type Clock } from '../platform/clock.ts';
import { ConfigError, parseEnv, positiveInt } from '../platform/config.ts';
import type { Database } from '../platform/db/database.ts';
import { guardedFetch, outboundFetch } from '../platform/http/outbound.ts';
import { createWorker } from '../platform/jobs/worker.ts';
import { DEFAULT_JOB_RETENTION_DAYS } from '../platform/jobs/prune.ts';
import { contentSecurityPolicy, securityHeaders } from '../platform/http/security-headers.ts';
import type { Logger } from '../platform/log.ts';
import {
  bootService,
  isMain,
  parseServiceBase,
  runAsMain,
  type ServiceBase,
  type ServiceHandle,
} from '../platform/service.ts';
import { createBankAdapter } from './issuer/bank.adapter.ts';
import { withGatewayTestCards } from './issuer/test-cards.ts';
import type { IssuerPort } from './issuer/issuer.port.ts';
import type { GatewayDeps } from './commands/deps.ts';
import { createDeliverWebhook } from './jobs/deliver-webhook.ts';
import { DELIVER_WEBHOOK_TASK } from './jobs/task-names.ts';
import { gatewayRecurring, gatewayTasks } from './jobs/tasks.ts';
import { parseFeePolicy } from './domain/ledger.payment.ts';
import { WEBHOOK_NETWORKS, webhookAddressAllowed, webhookUrlProblem } from './domain/webhook-url.rule.ts';
import { apiRoutes } from './routes/api.routes.ts';
import { bankCallbackRoutes } from './routes/bank-callback.routes.ts';
import { DEMO_DASHBOARD_OWNER, ensureDashboardUser } from './commands/add-member.ts';
import { dashboardRoutes } from './routes/dashboard.routes.tsx';
import { payRoutes } from './routes/pay.routes.tsx';
import { dialectDispatch } from './routes/stripe/dialect.middleware.ts';
import { stripeRoutes } from './routes/stripe/stripe.routes.ts';
import { documentWebhooks } from './routes/webhook.docs.ts';
import { createEventBell } from './storage/event-bell.ts';
import { DEMO_MERCHANT_ID, upsertMerchant } from './storage/merchants.ts';
import { settingOrGenerate } from './storage/settings.ts';
import { recordPublicUrl } from './storage/stripe-projection.ts';
import { upsertConfiguredEndpoint } from './storage/webhook-endpoints.ts';
import { loadStripeWebhookConfig } from './stripe-webhook.config.ts';

/** The gateway's database: its schema history. */
export const gatewayDatabaseSpec = {
  name: 'gateway',
  migrationsFolder: fileURLToPath(new URL('./storage/migrations', import.meta.url)),
} as const;

const whsec = z.string().regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be a whsec_<base64> secret');

/** Idempotency keys are kept at least this long (Stripe: 24 h). */
export const IDEMPOTENCY_RETENTION_MS = 25 * 3600 * 1000;

/** The gateway's configuration, parsed from the environment. */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  const base: ServiceBase = parseServiceBase('gateway', 3001, env);
  const raw = parseEnv(
    'gateway',
    {
      GATEWAY_BANK_URL: z.url().default('http://127.0.0.1:3002'),
      GATEWAY_BANK_KEY: whsec,
      GATEWAY_BANK_CALLBACK_SECRET: whsec,
      GATEWAY_DEMO_MERCHANT_API_KEY: z
        .string()
        .regex(/^sk_[A-Za-z0-9_-]{16,200}$/, 'must be an sk_… key')
        .optional(),
      GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: whsec.optional(),
      // The demo merchant's second key, speaking Stripe's API on /v1.
      GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY: z
        .string()
        .regex(/^sk_[A-Za-z0-9_-]{16,200}$/, 'must be an sk_… key')
        .optional(),
      GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: z.url().optional(),
      // Plain-http webhook endpoints beyond loopback: only for a closed test network.
      GATEWAY_ALLOW_HTTP_WEBHOOKS: z.enum(['true', 'false']).default('false'),
      // Which addresses a webhook URL registered by a merchant (Stripe API) may lead to; see domain/webhook-url.rule.ts.
      GATEWAY_WEBHOOK_NETWORKS: z.enum(WEBHOOK_NETWORKS).default('loopback'),
      GATEWAY_DEMO_MERCHANT_NAME: z.string().min(1).max(100).default('Countersign demo shop'),
      GATEWAY_DEMO_MERCHANT_ACK_WINDOW_SECONDS: positiveInt(900),
      // The demo merchant's dashboard owner, made at first start (an existing one is left as it is).
      GATEWAY_DEMO_MERCHANT_DASHBOARD_EMAIL: z.email().default(DEMO_DASHBOARD_OWNER.email),
      GATEWAY_DEMO_MERCHANT_DASHBOARD_PASSWORD: z.string().min(12).max(256).default(DEMO_DASHBOARD_OWNER.password),
      // Whether anyone may sign up as a merchant in the dashboard.
      GATEWAY_SIGNUP: z.enum(['on', 'off']).default('on'),
      GATEWAY_CARD_FINGERPRINT_SECRET: z.string().min(16).optional(),
      GATEWAY_WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
      GATEWAY_JOB_POLL_MS: positiveInt(250),
      // How long a claimed job (a delivery, a capture, a refund at the bank) stays this process's before a restarted or other process may take it over.
      GATEWAY_JOB_LEASE_SECONDS: positiveInt(60),
      // Days a succeeded job is kept (failed, pending and recurring jobs are never deleted).
      GATEWAY_JOB_RETENTION_DAYS: positiveInt(DEFAULT_JOB_RETENTION_DAYS),
      // A card submission whose bank answer was never recorded (crash) is settled from the bank after this; > the bank call's 10 s timeout.
      GATEWAY_INTERRUPTED_AFTER_SECONDS: positiveInt(120),
      // Seconds between payout runs: each pays every merchant's available balance to its bank account.
      GATEWAY_PAYOUT_INTERVAL: positiveInt(86_400),
      // The fee taken from the merchant at each capture: minor units, basis points, or both (25+140bps).
      GATEWAY_FEE_PER_CAPTURE: z
        .string()
        .default('0')
        .transform((v, ctx) => {
          try {
            return parseFeePolicy(v);
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message });
            return z.NEVER;
          }
        }),
    },
    env,
  );
  if ((raw.GATEWAY_DEMO_MERCHANT_API_KEY === undefined) !== (raw.GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET === undefined)) {
    throw new Error(
      'gateway: invalid configuration:\n  GATEWAY_DEMO_MERCHANT_API_KEY and GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET must be set together',
    );
  }
  if (raw.GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY !== undefined && raw.GATEWAY_DEMO_MERCHANT_API_KEY === undefined)
    throw new ConfigError(
      'gateway: invalid configuration:\n  GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY needs GATEWAY_DEMO_MERCHANT_API_KEY (the demo merchant)',
    );
  if (
    raw.GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY === raw.GATEWAY_DEMO_MERCHANT_API_KEY &&
    raw.GATEWAY_DEMO_MERCHANT_API_KEY
  )
    throw new ConfigError(
      'gateway: invalid configuration:\n  GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY must differ from GATEWAY_DEMO_MERCHANT_API_KEY (the key decides the dialect)',
    );
  const webhookProblem =
    raw.GATEWAY_DEMO_MERCHANT_WEBHOOK_URL &&
    webhookUrlProblem(raw.GATEWAY_DEMO_MERCHANT_WEBHOOK_URL, raw.GATEWAY_ALLOW_HTTP_WEBHOOKS === 'true');
  if (webhookProblem)
    throw new ConfigError(`gateway: invalid configuration:\n  GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: ${webhookProblem}`);
  return Object.freeze({
    base,
    bankUrl: raw.GATEWAY_BANK_URL,
    bankKey: raw.GATEWAY_BANK_KEY,
    bankCallbackSecret: raw.GATEWAY_BANK_CALLBACK_SECRET,
    demoMerchant:
      raw.GATEWAY_DEMO_MERCHANT_API_KEY && raw.GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET
        ? {
            apiKey: raw.GATEWAY_DEMO_MERCHANT_API_KEY,
            stripeApiKey: raw.GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY ?? null,
            webhookSecret: raw.GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET,
            webhookUrl: raw.GATEWAY_DEMO_MERCHANT_WEBHOOK_URL ?? null,
            name: raw.GATEWAY_DEMO_MERCHANT_NAME,
            ackWindowSeconds: raw.GATEWAY_DEMO_MERCHANT_ACK_WINDOW_SECONDS,
            dashboardOwner: {
              email: raw.GATEWAY_DEMO_MERCHANT_DASHBOARD_EMAIL,
              password: raw.GATEWAY_DEMO_MERCHANT_DASHBOARD_PASSWORD,
            },
          }
        : null,
    signup: raw.GATEWAY_SIGNUP === 'on',
    allowHttpWebhooks: raw.GATEWAY_ALLOW_HTTP_WEBHOOKS === 'true',
    webhookNetworks: raw.GATEWAY_WEBHOOK_NETWORKS,
    // The demo merchant's Stripe-format endpoint (with the demo merchant only).
    demoStripeWebhook: loadStripeWebhookConfig(env, raw.GATEWAY_ALLOW_HTTP_WEBHOOKS === 'true'),
    fingerprintSecret: raw.GATEWAY_CARD_FINGERPRINT_SECRET ?? null,
    webhookTimeoutMs: raw.GATEWAY_WEBHOOK_TIMEOUT_MS,
    jobPollMs: raw.GATEWAY_JOB_POLL_MS,
    jobLeaseSeconds: raw.GATEWAY_JOB_LEASE_SECONDS,
    jobRetentionMs: raw.GATEWAY_JOB_RETENTION_DAYS * 86_400_000,
    interruptedAfterMs: raw.GATEWAY_INTERRUPTED_AFTER_SECONDS * 1000,
    fees: raw.GATEWAY_FEE_PER_CAPTURE,
    payoutIntervalSeconds: raw.GATEWAY_PAYOUT_INTERVAL,
  });
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

/** The demo merchant (upserted at every start), its dashboard owner and its Stripe-format endpoint. */
async function seedDemoMerchant(config: GatewayConfig, database: Database, clock: Clock): Promise<void> {
  if (config.demoMerchant) {
    // Upsert: a restart keeps the same merchant, and the configured key and secret are the active ones.
    await upsertMerchant(
      database.db,
      {
        id: DEMO_MERCHANT_ID,
        name: config.demoMerchant.name,
        webhookUrl: config.demoMerchant.webhookUrl,
        apiKey: config.demoMerchant.apiKey,
        stripeApiKey: config.demoMerchant.stripeApiKey,
        webhookSecret: config.demoMerchant.webhookSecret,
        ackWindowSeconds: config.demoMerchant.ackWindowSeconds,
      },
      clock,
    );
    await ensureDashboardUser({ database, clock }, DEMO_MERCHANT_ID, config.demoMerchant.dashboardOwner);
  }
  if (config.demoMerchant && config.demoStripeWebhook) {
    const endpoint = config.demoStripeWebhook;
    await database.transaction((tx) =>
      upsertConfiguredEndpoint(tx, { merchantId: DEMO_MERCHANT_ID, ...endpoint }, clock),
    );
  }
}

/** Starts the gateway service. Tests may pass a database, a fake issuer and a clock. */
export async function startGateway(
  config: GatewayConfig,
  deps: { database?: Database; log?: Logger; issuer?: IssuerPort; clock?: Clock } = {},
): Promise<ServiceHandle> {
  const clock = deps.clock ?? systemClock;
  const fetch = outboundFetch(config.base.tls.ca);
  // Merchant-given URLs are reached only at the addresses GATEWAY_WEBHOOK_NETWORKS allows.
  const merchantFetch = guardedFetch(config.base.tls.ca, (a) => webhookAddressAllowed(a, config.webhookNetworks));
  return bootService({
    name: 'gateway',
    spec: gatewayDatabaseSpec,
    base: config.base,
    ...(deps.database ? { database: deps.database } : {}),
    ...(deps.log ? { log: deps.log } : {}),
    compose: async ({ app, database, log }) => {
      await seedDemoMerchant(config, database, clock);
      const fingerprintSecret =
        config.fingerprintSecret ?? (await settingOrGenerate(database.db, 'card_fingerprint_secret'));
      const issuer = withGatewayTestCards(
        deps.issuer ?? createBankAdapter({ baseUrl: config.bankUrl, key: config.bankKey, clock, fetch }),
      );
      const gateway: GatewayDeps = { database, issuer, clock, fingerprintSecret, log, fees: config.fees };
      let wake = () => undefined as void;
      const worker = createWorker({
        database,
        clock,
        log,
        pollIntervalMs: config.jobPollMs,
        leaseSeconds: config.jobLeaseSeconds,
        concurrency: 4,
        tasks: {
          ...gatewayTasks(gateway, {
            interruptedAfterMs: config.interruptedAfterMs,
            idempotencyRetentionMs: IDEMPOTENCY_RETENTION_MS,
            jobRetentionMs: config.jobRetentionMs,
          }),
          [DELIVER_WEBHOOK_TASK]: createDeliverWebhook({
            database,
            clock,
            log,
            timeoutMs: config.webhookTimeoutMs,
            fetch,
            merchantFetch,
          }),
        },
        recurring: gatewayRecurring(config.payoutIntervalSeconds),
      });
      // Woken from inside a request, the worker would otherwise carry that request's id into every
      // later job's log lines: wake it from the context captured here, at start.
      const outside = new AsyncResource('gateway.worker.wake');
      wake = () => outside.runInAsyncScope(() => worker.wake());
      let listeningUrl = config.base.publicUrl;
      // With port 0 (tests) the address is known only once listening.
      const publicUrl = () => listeningUrl;
      documentWebhooks(app.openAPIRegistry);
      // The key decides the dialect: Stripe-dialect keys are answered by the Stripe router.
      const bell = createEventBell(database);
      await bell.start();
      const stripe = stripeRoutes({
        gateway,
        publicUrl,
        wake: () => wake(),
        allowHttpWebhooks: config.allowHttpWebhooks,
        webhookNetworks: config.webhookNetworks,
        bell,
      });
      app.use('/v1/*', dialectDispatch({ database, stripe }));
      app.route('/v1', apiRoutes({ gateway, publicUrl, wake, bell }));
      app.route('/bank', bankCallbackRoutes({ gateway, secrets: [config.bankCallbackSecret], wake }));
      app.route('/pay', payRoutes({ gateway, wake }));
      app.route(
        '/dashboard',
        dashboardRoutes({
          database,
          clock,
          publicUrl,
          wake,
          signup: config.signup,
          allowHttpWebhooks: config.allowHttpWebhooks,
          webhookNetworks: config.webhookNetworks,
          merchantFetch,
          gateway,
        }),
      );
      // The front page: links only.
      app.get(
        '/',
        securityHeaders({
          csp: contentSecurityPolicy({
            'script-src': ["'none'"],
            'style-src': ["'none'"],
            'connect-src': ["'none'"],
            'img-src': ["'none'"],
            'form-action': ["'none'"],
          }),
        }),
        (c) =>
          c.html(
            '<!doctype html><title>countersign gateway</title><h1>countersign gateway</h1><p>API: <a href="/openapi.json">/openapi.json</a> · <a href="/dashboard">Merchant dashboard</a></p>',
          ),
      );
      return {
        onListening: async (_server, url) => {
          if (config.base.port === 0) listeningUrl = url.replace(/\/$/, '');
          // Stripe objects rendered inside a transaction (the events' data.object) link to it.
          await recordPublicUrl(database.db, listeningUrl);
          await worker.start();
        },
        onStop: async () => {
          await Promise.all([worker.stop(), bell.close()]);
        },
      };
    },
  });
}

if (isMain(import.meta.url)) void runAsMain(() => startGateway(loadGatewayConfig()));
