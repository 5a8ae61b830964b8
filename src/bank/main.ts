// Composition root of the bank: reads its configuration, wires storage, routes and jobs by hand.
import { fileURLToPath } from 'node:url';
import type { Database } from '../platform/db/database.ts';
import type { Logger } from '../platform/log.ts';
import { bootService, isMain, parseServiceBase, runAsMain, type ServiceBase, type ServiceHandle } from '../platform/service.ts';

/** The bank's database: its schema history. */
export const bankDatabaseSpec = {
  name: 'bank',
  migrationsFolder: fileURLToPath(new URL('./storage/migrations', import.meta.url)),
} as const;

/** The bank's configuration, parsed from the environment. */
export function loadBankConfig(env: Record<string, string | undefined> = process.env): { base: ServiceBase } {
  return Object.freeze({ base: parseServiceBase('bank', 3002, env) });
}

/** Starts the bank service. */
export async function startBank(
  config: ReturnType<typeof loadBankConfig>,
  deps: { database?: Database; log?: Logger } = {},
): Promise<ServiceHandle> {
  return bootService({
    name: 'bank',
    spec: bankDatabaseSpec,
    base: config.base,
    ...deps,
    compose: ({ app }) => {
      app.get('/', (c) => c.html('<!doctype html><title>countersign bank</title><h1>countersign bank</h1>'));
      return {};
    },
  });
}

if (isMain(import.meta.url)) void runAsMain(() => startBank(loadBankConfig()));
