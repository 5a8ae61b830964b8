// Composition root of the shop: reads its configuration, wires storage, routes and jobs by hand.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { systemClock, type Clock } from '../platform/clock.ts';
import { parseEnv, positiveInt } from '../platform/config.ts';
import type { Database } from '../platform/db/database.ts';
import type { Logger } from '../platform/log.ts';
import { bootService, isMain, parseServiceBase, runAsMain, type ServiceBase, type ServiceHandle } from '../platform/service.ts';
import type { ShopSettings } from './routes/context.ts';
import { createShopApp } from './routes/shop-app.ts';
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
  }, env);
  return Object.freeze({
    base,
    demoData: raw.SHOP_DEMO_DATA,
    settings: Object.freeze({
      publicUrl: base.publicUrl,
      sessionSecret: raw.SHOP_SESSION_SECRET,
      sessionTtlSeconds: raw.SHOP_SESSION_TTL_SECONDS,
      invoiceTtlSeconds: raw.SHOP_INVOICE_TTL_SECONDS,
      loginMaxFailures: raw.SHOP_LOGIN_MAX_FAILURES,
      loginWindowSeconds: raw.SHOP_LOGIN_WINDOW_SECONDS,
      trustProxy: raw.SHOP_TRUST_PROXY,
    }),
  });
}

/** Starts the shop service. */
export async function startShop(config: ShopConfig, deps: { database?: Database; log?: Logger; clock?: Clock } = {}): Promise<ServiceHandle> {
  const clock = deps.clock ?? systemClock;
  return bootService({
    name: 'shop',
    spec: shopDatabaseSpec,
    base: config.base,
    ...(deps.database ? { database: deps.database } : {}),
    ...(deps.log ? { log: deps.log } : {}),
    compose: async ({ app, database, log }) => {
      if (config.demoData) await ensureDemoData(database, clock.now());
      app.route('/', createShopApp({ database, clock, settings: config.settings, log }));
      return {};
    },
  });
}

if (isMain(import.meta.url)) void runAsMain(() => startShop(loadShopConfig()));
