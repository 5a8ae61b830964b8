// Composition root of the shop: reads its configuration, wires storage, routes and jobs by hand.
import { fileURLToPath } from 'node:url';
import type { Database } from '../platform/db/database.ts';
import type { Logger } from '../platform/log.ts';
import { bootService, isMain, parseServiceBase, runAsMain, type ServiceBase, type ServiceHandle } from '../platform/service.ts';

/** The shop's database: its schema history. */
export const shopDatabaseSpec = {
  name: 'shop',
  migrationsFolder: fileURLToPath(new URL('./storage/migrations', import.meta.url)),
} as const;

/** The shop's configuration, parsed from the environment. */
export function loadShopConfig(env: Record<string, string | undefined> = process.env): { base: ServiceBase } {
  return Object.freeze({ base: parseServiceBase('shop', 3000, env) });
}

/** Starts the shop service. */
export async function startShop(
  config: ReturnType<typeof loadShopConfig>,
  deps: { database?: Database; log?: Logger } = {},
): Promise<ServiceHandle> {
  return bootService({
    name: 'shop',
    spec: shopDatabaseSpec,
    base: config.base,
    ...deps,
    compose: ({ app }) => {
      app.get('/', (c) => c.html('<!doctype html><title>countersign shop</title><h1>countersign shop</h1>'));
      return {};
    },
  });
}

if (isMain(import.meta.url)) void runAsMain(() => startShop(loadShopConfig()));
