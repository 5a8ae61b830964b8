// The crash matrix's system: the shop, the gateway and the bank each as its own real process
// (`node --import tsx src/<party>/main.ts`, wired exactly as `npm start` wires them through
// `partyEnvironments`), each on its own PostgreSQL database of the test cluster, so that ONE party's
// process can be started with COUNTERSIGN_CRASH_AT, die with SIGKILL, and be started again on the
// same database and port while the other two keep running.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { newSecrets, partyEnvironments } from '../../src/main.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../../src/platform/db/testing.ts';
import { bankDatabaseSpec } from '../../src/bank/main.ts';
import { gatewayDatabaseSpec } from '../../src/gateway/main.ts';
import { shopDatabaseSpec } from '../../src/shop/main.ts';
import { freePort } from './system.ts';

export type Party = 'shop' | 'gateway' | 'bank';
const PARTIES: readonly Party[] = ['bank', 'gateway', 'shop'];
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  exit?: Exit;
}

export interface CrashSystem {
  readonly urls: Readonly<Record<Party, string>>;
  readonly dbUrls: Readonly<Record<Party, string>>;
  /** The demo merchant's API key (the shop's key at the gateway). */
  readonly apiKey: string;
  /** The signing secrets between the gateway and the bank (for tests that sign or capture their requests). */
  readonly secrets: { readonly bankGatewayKey: string; readonly bankCallbackSecret: string };
  /** Raw SQL on a party's database (the test's own connection, never the service's). */
  query<T = Record<string, unknown>>(party: Party, text: string, values?: unknown[]): Promise<T[]>;
  /** Starts a party's process (optionally armed with COUNTERSIGN_CRASH_AT) and waits until it serves. */
  start(party: Party, crashAt?: string): Promise<void>;
  /** Resolves with how the party's current process ended, or undefined if it still runs after `ms`. */
  waitExit(party: Party, ms: number): Promise<Exit | undefined>;
  /** Stops the party's process the polite way (SIGTERM: it closes its server and jobs), SIGKILL after 10 s. */
  terminate(party: Party): Promise<Exit | undefined>;
  /** Sends a signal to the party's current process at a moment the test chooses (SIGKILL, SIGSTOP, SIGCONT). */
  signal(party: Party, signal: NodeJS.Signals): void;
  /** Whether the party's current process is alive. */
  alive(party: Party): boolean;
  /** The last lines the party's processes wrote to stderr (for failure messages). */
  log(party: Party): string;
  /** SIGKILLs every process this system started and closes the test's connections. */
  stop(): Promise<void>;
}

/**
 * The settings that make the system converge in seconds rather than minutes: jobs polled every
 * 100 ms, reconciliation every second for attempts pending over a second, a 20 s acknowledgement
 * window (so an authorisation the shop never acknowledged is voided within the test) and card
 * submissions interrupted by a crash settled from the bank after 15 s.
 */
export const FAST_ENV: Readonly<Record<string, string>> = {
  LOG_LEVEL: 'warn',
  SHOP_JOB_POLL_MS: '100',
  SHOP_RECONCILE_EVERY_SECONDS: '1',
  SHOP_RECONCILE_PENDING_AGE_SECONDS: '1',
  SHOP_LOGIN_MAX_FAILURES: '10000',
  GATEWAY_JOB_POLL_MS: '100',
  GATEWAY_DEMO_MERCHANT_ACK_WINDOW_SECONDS: '20',
  GATEWAY_WEBHOOK_TIMEOUT_MS: '8000',
  GATEWAY_INTERRUPTED_AFTER_SECONDS: '15',
};

export async function startCrashSystem(extraEnv: Record<string, string> = {}): Promise<CrashSystem> {
  const [shopDb, gatewayDb, bankDb] = await Promise.all([
    freshPostgresDatabaseName(shopDatabaseSpec),
    freshPostgresDatabaseName(gatewayDatabaseSpec),
    freshPostgresDatabaseName(bankDatabaseSpec),
  ]);
  const dbUrls: Record<Party, string> = { shop: databaseUrl(shopDb), gateway: databaseUrl(gatewayDb), bank: databaseUrl(bankDb) };
  const ports: Record<Party, number> = { shop: await freePort(), gateway: await freePort(), bank: await freePort() };
  const secrets = newSecrets();
  const base: NodeJS.ProcessEnv = { ...process.env, ...FAST_ENV, ...extraEnv };
  delete base.COUNTERSIGN_CRASH_AT;
  for (const p of PARTIES) {
    base[`${p.toUpperCase()}_PORT`] = String(ports[p]);
    base[`${p.toUpperCase()}_HOST`] = '127.0.0.1';
    base[`${p.toUpperCase()}_PUBLIC_URL`] = `http://127.0.0.1:${ports[p]}`;
    base[`${p.toUpperCase()}_DATABASE_URL`] = dbUrls[p];
  }
  const envs = partyEnvironments(base, secrets);
  const urls = Object.fromEntries(PARTIES.map((p) => [p, `http://127.0.0.1:${ports[p]}`])) as Record<Party, string>;
  const pools = Object.fromEntries(PARTIES.map((p) => [p, new pg.Pool({ connectionString: dbUrls[p], max: 2 })])) as Record<Party, pg.Pool>;
  const running = new Map<Party, Running>();
  const logs = new Map<Party, string[]>(PARTIES.map((p) => [p, []]));
  const all = new Set<ChildProcess>();
  // If the test process itself dies (timeout, Ctrl-C) its `after` never runs: take the parties with it.
  const killAll = () => {
    for (const child of all) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const killAllAndExit = () => (killAll(), process.exit(1));
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, killAllAndExit);

  const system: CrashSystem = {
    urls,
    dbUrls,
    apiKey: secrets.demoMerchantApiKey,
    secrets: { bankGatewayKey: secrets.bankGatewayKey, bankCallbackSecret: secrets.bankCallbackSecret },
    async query<T>(party: Party, text: string, values: unknown[] = []) {
      return (await pools[party].query(text, values)).rows as T[];
    },
    async start(party, crashAt) {
      const current = running.get(party);
      if (current && !current.exit) throw new Error(`${party} is already running`);
      const env = { ...envs[party] };
      if (crashAt) env.COUNTERSIGN_CRASH_AT = crashAt;
      // The demo accounts exist after the first start; re-hashing their passwords (scrypt) only slows a restart.
      if (party === 'shop' && running.has('shop')) env.SHOP_DEMO_DATA = 'false';
      const child = fork(fileURLToPath(new URL(`../../src/${party}/main.ts`, import.meta.url)), [], {
        cwd: ROOT,
        env,
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      all.add(child);
      const lines = logs.get(party)!;
      child.stderr!.on('data', (d: Buffer) => {
        lines.push(String(d));
        if (lines.length > 200) lines.splice(0, lines.length - 200);
      });
      const entry: Running = {
        child,
        exited: new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve((entry.exit = { code, signal })))),
      };
      running.set(party, entry);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${party} not ready in 60 s:\n${lines.join('').slice(-2000)}`)), 60_000);
        child.on('message', (m) => {
          if ((m as { type?: string }).type === 'ready') {
            clearTimeout(timer);
            resolve();
          }
        });
        void entry.exited.then((e) => {
          clearTimeout(timer);
          reject(new Error(`${party} exited (${e.signal ?? e.code}) before it was ready:\n${lines.join('').slice(-2000)}`));
        });
      });
    },
    async waitExit(party, ms) {
      const entry = running.get(party);
      if (!entry) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
      const result = await Promise.race([entry.exited, timeout]);
      clearTimeout(timer);
      return result;
    },
    async terminate(party) {
      const entry = running.get(party);
      if (!entry || entry.exit) return entry?.exit;
      entry.child.kill('SIGTERM');
      const exit = await system.waitExit(party, 10_000);
      if (exit) return exit;
      entry.child.kill('SIGKILL');
      return entry.exited;
    },
    signal(party, signal) {
      const entry = running.get(party);
      if (!entry || entry.exit) throw new Error(`no running ${party} process to send ${signal} to`);
      entry.child.kill(signal);
    },
    alive: (party) => {
      const entry = running.get(party);
      return entry !== undefined && entry.exit === undefined;
    },
    log: (party) => logs.get(party)!.join('').slice(-3000),
    async stop() {
      process.off('exit', killAll);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, killAllAndExit);
      await Promise.all(
        [...all].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
      await Promise.all(PARTIES.map((p) => pools[p].end().catch(() => undefined)));
    },
  };
  try {
    for (const p of PARTIES) await system.start(p);
  } catch (err) {
    await system.stop();
    throw err;
  }
  return system;
}

/**
 * A killed worker's leases run out after the lease time (60 s) before another process may take its
 * jobs over; the test does not wait that minute: it lets that time pass for the dead process's jobs
 * only (the party ran ONE process, now dead, so every running job of its database was its own).
 */
export async function expireDeadLeases(system: CrashSystem, party: Party): Promise<number> {
  if (system.alive(party)) throw new Error(`${party} is alive: its leases are not dead`);
  const rows = await system.query(party, `update jobs set locked_until = now() - interval '1 second' where status = 'running' returning id`);
  return rows.length;
}
