// Composition root of the gateway: reads its configuration, wires storage, routes and jobs by hand.
import { fileURLToPath } from 'node:url';
import type { Database } from '../platform/db/database.ts';
import type { Logger } from '../platform/log.ts';
import { bootService, isMain, parseServiceBase, runAsMain, type ServiceBase, type ServiceHandle } from '../platform/service.ts';

/** The gateway's database: its schema history. */
export const gatewayDatabaseSpec = {
  name: 'gateway',
  migrationsFolder: fileURLToPath(new URL('./storage/migrations', import.meta.url)),
} as const;

/** The gateway's configuration, parsed from the environment. */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): { base: ServiceBase } {
  return Object.freeze({ base: parseServiceBase('gateway', 3001, env) });
}

/** Starts the gateway service. */
export async function startGateway(
  config: ReturnType<typeof loadGatewayConfig>,
  deps: { database?: Database; log?: Logger } = {},
): Promise<ServiceHandle> {
  return bootService({
    name: 'gateway',
    spec: gatewayDatabaseSpec,
    base: config.base,
    ...deps,
    compose: ({ app }) => {
      app.get('/', (c) => c.html('<!doctype html><title>countersign gateway</title><h1>countersign gateway</h1>'));
      return {};
    },
  });
}

if (isMain(import.meta.url)) void runAsMain(() => startGateway(loadGatewayConfig()));
