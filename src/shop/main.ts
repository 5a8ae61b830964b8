// Composition root of the shop: reads its configuration, wires storage, routes and jobs by hand.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { systemClock, type Clock } from '../platform/clock.ts';
import { ConfigError, parseEnv, positiveInt } from '../platform/config.ts';
import type { Database } from '../platform/db/database.ts';
import { outboundFetch } from '../platform/http/outbound.ts';
import type { Logger } from '../platform/log.ts';
import {
  bootService,
  isMain,
  parseServiceBase,
  runAsMain,
  type ServiceBase,
  type ServiceHandle,
} from '../platform/service.ts';
import { createHub } from '../platform/realtime/index.ts';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { createGatewayAdapter } from './adapters/gateway.native.ts';
import { createStripeAdapter, type StripeGateway } from './adapters/gateway.stripe.ts';
import { loadStripeConfig, STRIPE_CHECKOUT_ORIGIN, type StripeConfig } from './adapters/stripe.config.ts';
import { DEFAULT_REFUND_APPROVAL_THRESHOLD_MINOR } from './domain/refund.rule.ts';
import type { GatewayPort } from './domain/gateway.port.ts';
import { loadIntegrationConfig, type IntegrationConfig } from './integrations/config.ts';
import { integrationTasks } from './jobs/integration-delivery.ts';
import { refundTasks } from './jobs/refunds.ts';
import { createShopWorker, type WorkerTiming } from './jobs/worker.ts';
import { loadRetentionConfig, type RetentionConfig } from './jobs/retention.ts';
import type { ShopSettings } from './routes/context.ts';
import { invoiceRoomAuthorizer } from './routes/invoice-room.ts';
import { MIN_OPERATOR_TOKEN_LENGTH, mountOperatorApi } from './routes/ops-guard.ts';
import { secretRotationRoutes } from './routes/ops-secrets.routes.ts';
import { operatorDeps, opsRoutes } from './routes/ops.routes.ts';
import { createShopApp } from './routes/shop-app.ts';
import { mountWebhookIntakes } from './routes/webhook-intakes.ts';
import { pruneAccountRecords } from './storage/accounts.ts';
import { ensureDemoData } from './storage/demo-data.ts';
import { DEFAULT_REFUSAL_LIMITS, type RefusalLimits } from './storage/webhook-refusals.ts';
import { AUDIT_CHECKPOINT_TASK, auditCheckpointer } from './audit/checkpointer.ts';
import { loadAuditConfig, type AuditCheckpointConfig } from './audit/config.ts';
import { auditSealer } from './audit/sealer.ts';
import { loadMailConfig, mailTasks, smtpTransport, type MailConfig } from './mail/index.ts';

/** The shop's database: its schema history. */
export const shopDatabaseSpec = {
  name: 'shop',
  migrationsFolder: fileURLToPath(new URL('./storage/migrations', import.meta.url)),
} as const;

export const ACCOUNTS_PRUNE_TASK = 'shop.accounts.prune';

/** The shop's payment settings: the gateway, the webhook intake and the worker's timing. */
export interface PaymentsConfig extends WorkerTiming {
  readonly gatewayUrl: string;
  readonly gatewayApiKey: string | undefined;
  readonly webhookSecrets: readonly string[];
  readonly gatewayTimeoutMs: number;
  /** Deliveries refused before verification: the per-address limit, samples kept, retention (SHOP_WEBHOOK_REFUSAL*). */
  readonly refusalLimits?: RefusalLimits;
}

/** Reads SHOP_REFUND_APPROVAL_THRESHOLD_MINOR (minor units; default 10000): refunds above it need a second staff member. */
export function refundApprovalThreshold(env: Record<string, string | undefined> = process.env): bigint {
  const raw = env.SHOP_REFUND_APPROVAL_THRESHOLD_MINOR;
  if (raw === undefined || raw === '') return DEFAULT_REFUND_APPROVAL_THRESHOLD_MINOR;
  if (!/^[0-9]{1,15}$/.test(raw))
    throw new ConfigError(
      `shop: invalid configuration:\n  SHOP_REFUND_APPROVAL_THRESHOLD_MINOR: must be a whole number of minor units (got "${raw.slice(0, 40)}")`,
    );
  return BigInt(raw);
}

/** The shop's configuration, parsed from the environment. */
export interface ShopConfig {
  readonly base: ServiceBase;
  readonly settings: ShopSettings;
  readonly demoData: boolean;
  readonly payments: PaymentsConfig;
  /** Order-status events to integration endpoints (SHOP_INTEGRATION_*). */
  readonly integrations: IntegrationConfig;
  /** Signed checkpoints of the audit chain outside the database (SHOP_AUDIT_*). */
  readonly audit: AuditCheckpointConfig;
  /** Outgoing mail (SHOP_SMTP_URL, SHOP_MAIL_FROM, SHOP_SMTP_TIMEOUT_MS). */
  readonly mail: MailConfig;
  /** How long history is kept (SHOP_JOB_RETENTION_DAYS, SHOP_WEBHOOK_RECEIPT_RETENTION_DAYS). */
  readonly retention: RetentionConfig;
  /** Which gateway (SHOP_GATEWAY) and Stripe's settings (SHOP_STRIPE_*). */
  readonly stripe: StripeConfig;
  /** The bearer token of the operator API /ops/* (SHOP_OPERATOR_TOKEN); unset: no operator API. */
  readonly operatorToken: string | undefined;
}

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

const proxyHops = z
  .string()
  .regex(/^(true|false|\d{1,2})$/, 'true, false or a number of proxies')
  .default('false')
  .transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : Number(v)));

/** Parses the shop's variables; a bad one stops the start with its name. */
export function loadShopConfig(env: Record<string, string | undefined> = process.env): ShopConfig {
  const base = parseServiceBase('shop', 3000, env);
  const stripe = loadStripeConfig(env);
  const raw = parseEnv(
    'shop',
    {
      // Keys the CSRF tokens; `npm start` generates one into data/secrets.json.
      SHOP_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters (npm start generates one)'),
      SHOP_INVOICE_TTL_SECONDS: positiveInt(30 * 60),
      SHOP_SESSION_TTL_SECONDS: positiveInt(7 * 24 * 3600),
      // Failed logins per account (e-mail) and per client address within the window; more are refused
      // before the password is checked. The address limit is higher: many people may share one address.
      SHOP_LOGIN_MAX_FAILURES: positiveInt(5),
      SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS: positiveInt(50),
      SHOP_LOGIN_WINDOW_SECONDS: positiveInt(15 * 60),
      // false/0: the client address is the socket's. true/1 (one load balancer) or N: the Nth
      // X-Forwarded-For entry from the right, the one our own nearest proxies wrote.
      SHOP_TRUST_PROXY: proxyHops,
      SHOP_DEMO_DATA: flag(true),
      // The operator API's bearer token (`countersign reconcile`, `doctor`); `npm start` generates one.
      SHOP_OPERATOR_TOKEN: z.string().min(MIN_OPERATOR_TOKEN_LENGTH, 'must be at least 32 characters').optional(),
      // The gateway: without an API key "Pay now" only shows the invoice (no payments).
      SHOP_GATEWAY_URL: z.url().default('http://127.0.0.1:3001'),
      SHOP_GATEWAY_API_KEY: z.string().min(8).optional(),
      // Where the gateway's hosted payment page is, as the browser sees it (the CSP's form-action allows
      // it); only when that differs from SHOP_GATEWAY_URL's origin (a gateway reached internally).
      SHOP_GATEWAY_PAGE_ORIGIN: z.url({ protocol: /^https?$/ }).optional(),
      // One secret, or two (comma-separated) while the gateway rotates its signing secret.
      SHOP_GATEWAY_WEBHOOK_SECRETS: z
        .string()
        .optional()
        .transform((v) =>
          (v ?? '')
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        )
        .refine((l) => l.length <= 2, 'at most two secrets (during a rotation)')
        .refine((l) => l.every((x) => x.startsWith('whsec_')), 'each secret starts with whsec_'),
      SHOP_GATEWAY_TIMEOUT_MS: positiveInt(5000),
      SHOP_RECONCILE_EVERY_SECONDS: positiveInt(60),
      SHOP_RECONCILE_PENDING_AGE_SECONDS: positiveInt(900),
      SHOP_EXPIRY_EVERY_SECONDS: positiveInt(30),
      SHOP_JOB_POLL_MS: positiveInt(500),
      // How long a claimed job stays a node's before another node may take it over (a crashed node's work).
      SHOP_JOB_LEASE_SECONDS: positiveInt(60),
      // Webhook deliveries that fail verification: counted and sampled, never a row each, and limited per address.
      SHOP_WEBHOOK_REFUSALS_PER_MINUTE: positiveInt(DEFAULT_REFUSAL_LIMITS.perAddressPerMinute),
      SHOP_WEBHOOK_REFUSAL_SAMPLES_PER_HOUR: positiveInt(DEFAULT_REFUSAL_LIMITS.samplesPerHour),
      SHOP_WEBHOOK_REFUSAL_RETENTION_HOURS: positiveInt(DEFAULT_REFUSAL_LIMITS.retentionHours),
    },
    env,
  );
  const retention = loadRetentionConfig(env);
  return Object.freeze({
    base,
    demoData: raw.SHOP_DEMO_DATA,
    retention,
    audit: loadAuditConfig(env),
    mail: loadMailConfig(env),
    integrations: loadIntegrationConfig(env),
    stripe,
    operatorToken: raw.SHOP_OPERATOR_TOKEN,
    payments: Object.freeze({
      gatewayUrl: raw.SHOP_GATEWAY_URL,
      gatewayApiKey: raw.SHOP_GATEWAY_API_KEY,
      webhookSecrets: Object.freeze(raw.SHOP_GATEWAY_WEBHOOK_SECRETS),
      gatewayTimeoutMs: raw.SHOP_GATEWAY_TIMEOUT_MS,
      reconcileEverySeconds: raw.SHOP_RECONCILE_EVERY_SECONDS,
      reconcilePendingAgeSeconds: raw.SHOP_RECONCILE_PENDING_AGE_SECONDS,
      expiryEverySeconds: raw.SHOP_EXPIRY_EVERY_SECONDS,
      jobPollMs: raw.SHOP_JOB_POLL_MS,
      jobLeaseSeconds: raw.SHOP_JOB_LEASE_SECONDS,
      refusalLimits: Object.freeze({
        perAddressPerMinute: raw.SHOP_WEBHOOK_REFUSALS_PER_MINUTE,
        samplesPerHour: raw.SHOP_WEBHOOK_REFUSAL_SAMPLES_PER_HOUR,
        retentionHours: raw.SHOP_WEBHOOK_REFUSAL_RETENTION_HOURS,
      }),
    }),
    settings: Object.freeze({
      publicUrl: base.publicUrl,
      sessionSecret: raw.SHOP_SESSION_SECRET,
      sessionTtlSeconds: raw.SHOP_SESSION_TTL_SECONDS,
      invoiceTtlSeconds: raw.SHOP_INVOICE_TTL_SECONDS,
      login: Object.freeze({
        maxFailuresPerAccount: raw.SHOP_LOGIN_MAX_FAILURES,
        maxFailuresPerAddress: raw.SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS,
        windowSeconds: raw.SHOP_LOGIN_WINDOW_SECONDS,
      }),
      trustedProxyHops: raw.SHOP_TRUST_PROXY,
      gatewayPageOrigin: new URL(
        raw.SHOP_GATEWAY_PAGE_ORIGIN ??
          (stripe.gateway === 'stripe' ? (stripe.apiUrl ?? STRIPE_CHECKOUT_ORIGIN) : raw.SHOP_GATEWAY_URL),
      ).origin,
      refundApprovalThresholdMinor: refundApprovalThreshold(env),
      retention,
    }),
  });
}

/** Starts the shop service. */
export async function startShop(
  config: ShopConfig,
  deps: { database?: Database; log?: Logger; clock?: Clock; gateway?: GatewayPort; jobs?: boolean } = {},
): Promise<ServiceHandle> {
  const clock = deps.clock ?? systemClock;
  const p = config.payments;
  const fetch = outboundFetch(config.base.tls.ca);
  const stripe = config.stripe.gateway === 'stripe' ? stripeAdapter(config) : undefined;
  const gateway =
    deps.gateway ??
    stripe ??
    (p.gatewayApiKey
      ? createGatewayAdapter({ baseUrl: p.gatewayUrl, apiKey: p.gatewayApiKey, timeoutMs: p.gatewayTimeoutMs, fetch })
      : undefined);
  return bootService({
    name: 'shop',
    spec: shopDatabaseSpec,
    base: config.base,
    ...(deps.database ? { database: deps.database } : {}),
    ...(deps.log ? { log: deps.log } : {}),
    compose: async ({ app, database, log }) => {
      if (config.demoData) await ensureDemoData(database, clock.now());
      const a = config.audit;
      const checkpoint = auditCheckpointer({ database, clock, log, dir: a.dir, signingKey: a.signingKey });
      const sealer = auditSealer({ database, log, intervalMs: a.sealIntervalMs });
      if (!a.signingKey)
        log.warn(
          {},
          'SHOP_AUDIT_SIGNING_KEY is not set: no audit checkpoints, so entries cut from the end of the audit log would go unnoticed',
        );
      // The webhook intake and /ws sit beside the shop's pages, not behind its session middleware.
      const refusalLimits = p.refusalLimits ?? DEFAULT_REFUSAL_LIMITS;
      const keyring = mountWebhookIntakes(app, { config, database, clock, log, stripe, refusalLimits });
      const hub = createHub({ database, log, authorize: invoiceRoomAuthorizer(database, clock) });
      // Failed logins past their window and expired sessions go, so that neither table grows without bound.
      const accountsPrune = {
        [ACCOUNTS_PRUNE_TASK]: () => pruneAccountRecords(database.db, clock.now(), config.settings.login.windowSeconds),
      };
      const runsJobs = deps.jobs ?? true;
      // Pooled: its connections stay open between mails and are closed at stop, after the worker.
      const mailTransport = runsJobs ? smtpTransport(config.mail, config.base.tls.ca) : undefined;
      const worker = runsJobs
        ? createShopWorker({
            database,
            clock,
            log,
            timing: p,
            gateway,
            refusalLimits,
            retention: config.retention,
            tasks: {
              ...mailTasks({
                database,
                clock,
                config: config.mail,
                publicUrl: config.base.publicUrl,
                transport: mailTransport,
                gateway,
                log,
              }),
              ...integrationTasks({ database, clock, config: config.integrations, fetch }),
              ...refundTasks({ database, clock, gateway }),
              ...accountsPrune,
              [AUDIT_CHECKPOINT_TASK]: checkpoint,
            },
            recurring: [
              { task: ACCOUNTS_PRUNE_TASK, everySeconds: 15 * 60 },
              ...(a.signingKey ? [{ task: AUDIT_CHECKPOINT_TASK, everySeconds: a.everySeconds }] : []),
            ],
          })
        : undefined;
      // Beside the webhook intake: machine-to-machine, behind its own bearer token, no session.
      // /ops/status shows the secrets the intake verifies with now: configured and learnt by rotation.
      const ops = { ...operatorDeps(config, { database, clock, gateway }), webhookSecrets: keyring.current };
      mountOperatorApi(app, config.operatorToken, [
        opsRoutes(ops),
        secretRotationRoutes({
          database,
          clock,
          log,
          gateway,
          configuredSecrets: p.webhookSecrets,
          learnt: () => keyring.invalidate(),
        }),
      ]);
      app.route(
        '/',
        createShopApp({ database, clock, settings: config.settings, log, ...(gateway ? { gateway } : {}) }),
      );
      await hub.start();
      await worker?.start();
      sealer.start();
      return {
        onListening: (server) => {
          hub.attach(server);
          // server.close() waits for upgraded sockets too, which only hub.stop() ends (as in the bank).
          const close = server.close.bind(server);
          server.close = ((callback?: (err?: Error) => void) => {
            void hub.stop();
            return close(callback);
          }) as typeof server.close;
        },
        onStop: async () => {
          await hub.stop();
          await worker?.stop();
          mailTransport?.close?.();
          await sealer.stop();
          // A clean stop seals and anchors everything written so far; a failure here must not keep the shop from stopping.
          if (a.signingKey)
            await checkpoint().catch((err: unknown) => log.error({ err }, 'audit checkpoint at shutdown failed'));
        },
      };
    },
  });
}

/** The Stripe adapter of a configuration (SHOP_GATEWAY=stripe); https to a private CA trusts SHOP_TLS_CA too. */
function stripeAdapter(config: ShopConfig): StripeGateway {
  const ca = config.base.tls.ca;
  return createStripeAdapter({
    secretKey: config.stripe.secretKey!,
    apiUrl: config.stripe.apiUrl,
    timeoutMs: config.payments.gatewayTimeoutMs,
    ...(ca ? { httpAgent: new HttpsAgent({ ca: [...rootCertificates, ca], keepAlive: true }) } : {}),
  });
}

if (isMain(import.meta.url)) void runAsMain(() => startShop(loadShopConfig()));
