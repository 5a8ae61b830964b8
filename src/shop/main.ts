// Composition root of the shop: reads its configuration, wires storage, routes and jobs by hand.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { systemClock, type Clock } from '../platform/clock.ts';
import { parseEnv, positiveInt } from '../platform/config.ts';
import type { Database } from '../platform/db/database.ts';
import type { Logger } from '../platform/log.ts';
import { bootService, isMain, parseServiceBase, runAsMain, type ServiceBase, type ServiceHandle } from '../platform/service.ts';
import { createPayments, type PaymentsConfig } from './payments/payments.module.ts';
import type { ShopGateway } from './payments/gateway-events.ts';
import { createGatewayAdapter } from './payments/gateway.adapter.ts';
import type { ShopSettings } from './routes/context.ts';
import { createShopApp } from './routes/shop-app.ts';
import { integrationTasks, loadIntegrationConfig, type IntegrationConfig } from './integrations/index.ts';
import { refundApprovalThreshold, refundTasks } from './refunds/index.ts';
import { ensureDemoData } from './storage/demo-data.ts';

/** The shop's database: its schema history. */
export const shopDatabaseSpec = {
  name: 'shop',
  migrationsFolder: fileURLToPath(new URL('./storage/migrations', import.meta.url)),
} as const;

/** The shop's configuration, parsed from the environment. */
export interface ShopConfig {
  readonly base: ServiceBase;
  readonly settings: ShopSettings;
  readonly demoData: boolean;
  readonly payments: PaymentsConfig;
  /** Order-status events to integration endpoints (SHOP_INTEGRATION_*). */
  readonly integrations: IntegrationConfig;
}

const flag = (fallback: boolean) => z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1');

/** Parses the shop's variables; a bad one stops the start with its name. */
export function loadShopConfig(env: Record<string, string | undefined> = process.env): ShopConfig {
  const base = parseServiceBase('shop', 3000, env);
  const raw = parseEnv('shop', {
    // Keys the CSRF tokens; `npm start` generates one into data/secrets.json.
    SHOP_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters (npm start generates one)'),
    SHOP_INVOICE_TTL_SECONDS: positiveInt(30 * 60),
    SHOP_SESSION_TTL_SECONDS: positiveInt(7 * 24 * 3600),
    SHOP_LOGIN_MAX_FAILURES: positiveInt(5),
    SHOP_LOGIN_WINDOW_SECONDS: positiveInt(15 * 60),
    SHOP_TRUST_PROXY: flag(false),
    SHOP_DEMO_DATA: flag(true),
    // The gateway (issue 6): without an API key "Pay now" only shows the invoice (no payments).
    SHOP_GATEWAY_URL: z.url().default('http://127.0.0.1:3001'),
    SHOP_GATEWAY_API_KEY: z.string().min(8).optional(),
    // Where the gateway's hosted payment page is, as the browser sees it (the CSP's form-action allows
    // it); only when that differs from SHOP_GATEWAY_URL's origin (a gateway reached internally).
    SHOP_GATEWAY_PAGE_ORIGIN: z.url({ protocol: /^https?$/ }).optional(),
    // One secret, or two (comma-separated) while the gateway rotates its signing secret.
    SHOP_GATEWAY_WEBHOOK_SECRETS: z
      .string()
      .optional()
      .transform((v) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean))
      .refine((l) => l.length <= 2, 'at most two secrets (during a rotation)')
      .refine((l) => l.every((x) => x.startsWith('whsec_')), 'each secret starts with whsec_'),
    SHOP_GATEWAY_TIMEOUT_MS: positiveInt(5000),
    SHOP_RECONCILE_EVERY_SECONDS: positiveInt(60),
    SHOP_RECONCILE_PENDING_AGE_SECONDS: positiveInt(900),
    SHOP_EXPIRY_EVERY_SECONDS: positiveInt(30),
    SHOP_JOB_POLL_MS: positiveInt(500),
    // How long a claimed job stays a node's before another node may take it over (a crashed node's work).
    SHOP_JOB_LEASE_SECONDS: positiveInt(60),
  }, env);
  return Object.freeze({
    base,
    demoData: raw.SHOP_DEMO_DATA,
    integrations: loadIntegrationConfig(env),
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
    }),
    settings: Object.freeze({
      publicUrl: base.publicUrl,
      sessionSecret: raw.SHOP_SESSION_SECRET,
      sessionTtlSeconds: raw.SHOP_SESSION_TTL_SECONDS,
      invoiceTtlSeconds: raw.SHOP_INVOICE_TTL_SECONDS,
      loginMaxFailures: raw.SHOP_LOGIN_MAX_FAILURES,
      loginWindowSeconds: raw.SHOP_LOGIN_WINDOW_SECONDS,
      trustProxy: raw.SHOP_TRUST_PROXY,
      gatewayPageOrigin: new URL(raw.SHOP_GATEWAY_PAGE_ORIGIN ?? raw.SHOP_GATEWAY_URL).origin,
      refundApprovalThresholdMinor: refundApprovalThreshold(env),
    }),
  });
}

/** Starts the shop service. */
export async function startShop(config: ShopConfig, deps: { database?: Database; log?: Logger; clock?: Clock; gateway?: ShopGateway; jobs?: boolean } = {}): Promise<ServiceHandle> {
  const clock = deps.clock ?? systemClock;
  const p = config.payments;
  const gateway = deps.gateway ?? (p.gatewayApiKey ? createGatewayAdapter({ baseUrl: p.gatewayUrl, apiKey: p.gatewayApiKey, timeoutMs: p.gatewayTimeoutMs }) : undefined);
  return bootService({
    name: 'shop',
    spec: shopDatabaseSpec,
    base: config.base,
    ...(deps.database ? { database: deps.database } : {}),
    ...(deps.log ? { log: deps.log } : {}),
    compose: async ({ app, database, log }) => {
      if (config.demoData) await ensureDemoData(database, clock.now());
      // Payments first: the webhook intake and /ws sit beside the shop's pages, not behind its session middleware.
      const payments = createPayments({ app, database, clock, log, config: p, gateway, settings: config.settings, runJobs: deps.jobs ?? true, tasks: { ...integrationTasks({ database, clock, config: config.integrations }), ...refundTasks({ database, clock, gateway }) } });
      app.route('/', createShopApp({ database, clock, settings: config.settings, log, ...(gateway ? { gateway } : {}) }));
      await payments.start();
      return {
        onListening: (server) => payments.attach(server),
        onStop: () => payments.stop(),
      };
    },
  });
}

if (isMain(import.meta.url)) void runAsMain(() => startShop(loadShopConfig()));
