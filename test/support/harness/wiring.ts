// What every way of starting the three parties shares: free ports, a fresh migrated PostgreSQL database
// per party, and the environment that wires them to each other exactly as `npm start` does
// (src/main.ts partyEnvironments), so a test starts the system the product starts, not a lookalike.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { newSecrets, partyEnvironments, type Secrets } from '../../../src/main.ts';
import { bankDatabaseSpec } from '../../../src/bank/main.ts';
import { gatewayDatabaseSpec } from '../../../src/gateway/main.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../../../src/platform/db/testing.ts';
import { shopDatabaseSpec } from '../../../src/shop/main.ts';

export type Party = 'shop' | 'gateway' | 'bank';
/** In the order they start: each one's peers are up before it (the shop calls the gateway, which calls the bank). */
export const PARTIES: readonly Party[] = ['bank', 'gateway', 'shop'];
export type PerParty<T> = Record<Party, T>;

/** Builds a per-party record from a function of the party. */
export function perParty<T>(fn: (party: Party) => T): PerParty<T> {
  return Object.fromEntries(PARTIES.map((p) => [p, fn(p)])) as PerParty<T>;
}

/** The low end of the kernel's ephemeral range, whence outbound connections take their local ports. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

const LOWEST_PORT = 10_000;
const handedOut = new Set<number>();

/** True when `port` can be listened on at loopback now (it is closed again before this returns). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on loopback, for a process that listens on it later. Not listen(0)'s: that is an
 * ephemeral port, which any outbound connection (to PostgreSQL, between the parties, of another
 * test file) may take as its local port before the process listens, and the process then fails with
 * EADDRINUSE (seen in npm test). So: a random port below the ephemeral range, which the kernel never
 * hands out by itself, checked free, and never twice from this process.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  for (let tries = 0; tries < 100; tries++) {
    const port = LOWEST_PORT + randomInt(high - LOWEST_PORT);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${LOWEST_PORT} and ${high} in 100 tries`);
}

/** One free port per party. */
export async function freePorts(): Promise<PerParty<number>> {
  return { bank: await freePort(), gateway: await freePort(), shop: await freePort() };
}

/** A fresh, migrated database per party on the test cluster, as URLs. */
export async function freshPartyDatabases(): Promise<PerParty<string>> {
  const [shop, gateway, bank] = await Promise.all(
    [shopDatabaseSpec, gatewayDatabaseSpec, bankDatabaseSpec].map(async (s) =>
      databaseUrl(await freshPostgresDatabaseName(s)),
    ),
  );
  return { shop: shop!, gateway: gateway!, bank: bank! };
}

export interface Wiring {
  readonly urls: PerParty<string>;
  readonly databaseUrls: PerParty<string>;
  readonly secrets: Secrets;
  /** Each party's complete environment (wiring, then `env`, which wins). */
  readonly envs: PerParty<Record<string, string>>;
}

/**
 * The parties on loopback ports with their databases, wired by partyEnvironments over `base` (the
 * process environment for processes, nothing for in-process parties) and `env` (the test's settings).
 */
export function wire(options: {
  ports: PerParty<number>;
  databaseUrls: PerParty<string>;
  secrets?: Partial<Secrets>;
  base?: NodeJS.ProcessEnv;
  env?: Record<string, string>;
}): Wiring {
  const secrets = { ...newSecrets(), ...options.secrets };
  const env: NodeJS.ProcessEnv = { ...options.base, ...options.env };
  delete env.COUNTERSIGN_CRASH_AT;
  const urls = perParty((p) => `http://127.0.0.1:${options.ports[p]}`);
  for (const p of PARTIES) {
    const P = p.toUpperCase();
    env[`${P}_PORT`] = String(options.ports[p]);
    env[`${P}_HOST`] = '127.0.0.1';
    env[`${P}_PUBLIC_URL`] = urls[p];
    env[`${P}_DATABASE_URL`] = options.databaseUrls[p];
  }
  // The test's own settings win over the wiring, as the caller's environment does for `npm start`.
  Object.assign(env, options.env);
  const all = partyEnvironments(env, secrets);
  const envs = perParty((p) =>
    Object.fromEntries(Object.entries(all[p]!).filter((e): e is [string, string] => e[1] !== undefined)),
  );
  return { urls, databaseUrls: options.databaseUrls, secrets, envs };
}
