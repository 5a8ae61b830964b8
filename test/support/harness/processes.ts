// The one way tests, proofs and the bench start the three parties as real processes, in two forms:
//  - `launchSystem`: `countersign start` (src/main.ts) as a newcomer runs it (optionally `--tls`), on free ports with its own
//    data directory; it forks the parties itself (the end-to-end tests and the bench);
//  - `startPartyProcesses`: each party forked by the harness (its compiled `src/<party>/main.ts`, as `npm start` runs it,
//    wired by the same partyEnvironments) on its own PostgreSQL database, so that ONE party's process can
//    be started with COUNTERSIGN_CRASH_AT, killed (SIGKILL), frozen (SIGSTOP/SIGCONT) and started again
//    on the same database and port while the other two keep running (the crash and signing proofs).
// Both answer the same questions (urls, a fetch that trusts the system's CA, pids, stop).
import { runnable } from '../../../src/platform/compiled.ts';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { spkiHash } from '../../../src/platform/dev-certificates.ts';
import { outboundFetch } from '../../../src/platform/http/outbound.ts';
import { freePorts, freshPartyDatabases, PARTIES, perParty, wire, type Party, type PerParty } from './wiring.ts';
import { projectRoot } from '../../../src/platform/project-root.ts';

export { PARTIES, type Party, type PerParty } from './wiring.ts';
const ROOT = projectRoot();

export interface SystemProcesses {
  readonly urls: PerParty<string>;
  /** With `tls`: the CA that signed all three certificates. */
  readonly caFile: string | undefined;
  /** fetch for a test client: with `tls` it trusts the system's CA (and verifies, as the parties do). */
  readonly fetch: typeof fetch;
  /** Chromium flags that trust the system's CA by its public key (only that CA, not "any error"); none without `tls`. */
  readonly browserArgs: readonly string[];
  /** The pid of each party's process. */
  pids(): PerParty<number>;
  stop(): Promise<void>;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Kills `child` with `signal`, then SIGKILL after `graceMs`; resolves when it has exited. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** If the test process itself dies (timeout, Ctrl-C) its `after` never runs: the processes go with it. */
function killOnExit(children: () => Iterable<ChildProcess>): () => void {
  const killAll = () => {
    for (const child of children()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const killAllAndExit = () => (killAll(), process.exit(1));
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, killAllAndExit);
  return () => {
    process.off('exit', killAll);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, killAllAndExit);
  };
}

/** Resolves when `ready` is called, rejects when the child exits first or `ms` pass. */
function untilReady(
  child: ChildProcess,
  what: string,
  ms: number,
  output: () => string,
  watch: (ready: () => void) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready in ${ms / 1000} s:\n${output()}`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${signal ?? code}) before it was ready:\n${output()}`));
    });
    watch(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function trust(caFile: string | undefined): Pick<SystemProcesses, 'caFile' | 'fetch' | 'browserArgs'> {
  const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  return {
    caFile,
    fetch: outboundFetch(ca),
    browserArgs: ca ? [`--ignore-certificate-errors-spki-list=${spkiHash(ca)}`] : [],
  };
}

/**
 * Forks one party's process (its compiled main.js, as `npm start` runs it) with exactly `env`; what it
 * writes goes to `output` (the last 200 chunks, for failure messages). `ready` resolves when the
 * party says it serves (its 'ready' message) and rejects if it exits first.
 */
export async function forkParty(
  party: Party,
  env: NodeJS.ProcessEnv,
  output: string[] = [],
): Promise<{ child: ChildProcess; ready: Promise<void> }> {
  const entry = await runnable(`${party}/main.ts`, env);
  const child = fork(entry.file, [], {
    cwd: ROOT,
    env,
    execArgv: [...entry.execArgv],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (d: Buffer) => {
      output.push(String(d));
      if (output.length > 200) output.splice(0, output.length - 200);
    });
  }
  const ready = untilReady(
    child,
    party,
    60_000,
    () => output.join('').slice(-2000),
    (done) => child.on('message', (m) => (m as { type?: string }).type === 'ready' && done()),
  );
  return { child, ready };
}

export interface LaunchedSystem extends SystemProcesses {
  readonly launcher: ChildProcess;
  readonly dataDir: string;
  /** Everything the launcher printed (for failure messages). */
  readonly output: string[];
  /** Milliseconds from spawn to "ready in". */
  readonly startedMs: number;
  /** The demo merchant's API key the launcher generated. */
  demoMerchantApiKey(): string;
  /** The demo merchant's Stripe-dialect key the launcher generated (`sk_test_…`). */
  demoMerchantStripeApiKey(): string;
  /** Ctrl-C, then SIGKILL after 10 s; removes the data directory. */
  stop(): Promise<void>;
}

/** The pids of the launcher's children, by the party entry each one runs. */
function launchedPids(launcherPid: number): PerParty<number> {
  const found: Partial<PerParty<number>> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== launcherPid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // Compiled (main.js) or, with COUNTERSIGN_RUN_TS=1, the source (main.ts).
      for (const p of PARTIES)
        if (cmdline.includes(`/${p}/main.js\0`) || cmdline.includes(`/${p}/main.ts\0`)) found[p] = Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  for (const p of PARTIES)
    if (!found[p]) throw new Error(`cannot find the ${p} process among the launcher's (${launcherPid}) children`);
  return found as PerParty<number>;
}

/**
 * Starts `countersign start` (with `--tls` when asked, and any further `args` such as `--gateway stripe`)
 * with its own ports and data directory and waits for "ready in".
 */
export async function launchSystem(
  env: Record<string, string> = {},
  options: { tls?: boolean; args?: readonly string[] } = {},
): Promise<LaunchedSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-system-'));
  const ports = await freePorts();
  const t0 = Date.now();
  // What `npm start` runs: `countersign start` (the bin: the command line compiled, no tsx).
  const args = ['bin/countersign.mjs', 'start', ...(options.tls ? ['--tls'] : []), ...(options.args ?? [])];
  const launcher = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      ...Object.fromEntries(PARTIES.map((p) => [`${p.toUpperCase()}_PORT`, String(ports[p])])),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const forget = killOnExit(() => [launcher]);
  const output: string[] = [];
  const urls = new Map<string, string>();
  launcher.stderr!.on('data', (d) => output.push(String(d)));
  try {
    // Generous: on a shared 2-core machine three services migrating and warming up can take a minute.
    await untilReady(
      launcher,
      'the launcher',
      120_000,
      () => output.join(''),
      (ready) =>
        createInterface({ input: launcher.stdout! }).on('line', (line) => {
          output.push(`${line}\n`);
          const m = /^(shop|gateway|bank)\s+(https?:\/\/\S+)$/.exec(line);
          if (m) urls.set(m[1]!, m[2]!);
          if (line.startsWith('ready in')) ready();
        }),
    );
  } catch (err) {
    launcher.kill('SIGKILL');
    forget();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    launcher,
    dataDir,
    output,
    startedMs: Date.now() - t0,
    ...trust(options.tls ? join(dataDir, 'tls', 'ca.pem') : undefined),
    urls: perParty((p) => urls.get(p)!),
    pids: () => launchedPids(launcher.pid!),
    demoMerchantApiKey: () =>
      (JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { demoMerchantApiKey: string })
        .demoMerchantApiKey,
    demoMerchantStripeApiKey: () =>
      (JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { demoMerchantStripeApiKey: string })
        .demoMerchantStripeApiKey,
    async stop() {
      await stopChild(launcher, 'SIGINT', 10_000);
      forget();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface PartyProcesses extends SystemProcesses {
  readonly databaseUrls: PerParty<string>;
  /** The demo merchant's API key (the shop's key at the gateway). */
  readonly apiKey: string;
  /** The same merchant's Stripe-dialect key (the official SDK's secret key against the gateway). */
  readonly stripeApiKey: string;
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

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  exit?: Exit;
}

/** Forks bank, gateway and shop (FAST_ENV, then `env`) on fresh PostgreSQL databases and waits until each serves. */
export async function startPartyProcesses(env: Record<string, string> = {}): Promise<PartyProcesses> {
  const { urls, databaseUrls, secrets, envs } = wire({
    ports: await freePorts(),
    databaseUrls: await freshPartyDatabases(),
    base: process.env,
    env: { ...FAST_ENV, ...env },
  });
  const pools = perParty((p) => new pg.Pool({ connectionString: databaseUrls[p], max: 2 }));
  const running = new Map<Party, Running>();
  const logs = perParty((): string[] => []);
  const all = new Set<ChildProcess>();
  const forget = killOnExit(() => all);
  const current = (party: Party) => {
    const entry = running.get(party);
    return entry && !entry.exit ? entry : undefined;
  };

  const system: PartyProcesses = {
    urls,
    databaseUrls,
    ...trust(undefined),
    apiKey: secrets.demoMerchantApiKey,
    stripeApiKey: secrets.demoMerchantStripeApiKey,
    secrets: { bankGatewayKey: secrets.bankGatewayKey, bankCallbackSecret: secrets.bankCallbackSecret },
    pids: () => perParty((p) => current(p)?.child.pid ?? Number.NaN),
    async query<T>(party: Party, text: string, values: unknown[] = []) {
      return (await pools[party].query(text, values)).rows as T[];
    },
    async start(party, crashAt) {
      if (current(party)) throw new Error(`${party} is already running`);
      const partyEnv: NodeJS.ProcessEnv = { ...envs[party] };
      if (crashAt) partyEnv.COUNTERSIGN_CRASH_AT = crashAt;
      // The demo accounts exist after the first start; re-hashing their passwords (scrypt) only slows a restart.
      if (party === 'shop' && running.has('shop')) partyEnv.SHOP_DEMO_DATA = 'false';
      const lines = logs[party];
      const { child, ready } = await forkParty(party, partyEnv, lines);
      all.add(child);
      const entry: Running = {
        child,
        exited: new Promise<Exit>((resolve) =>
          child.once('exit', (code, signal) => resolve((entry.exit = { code, signal }))),
        ),
      };
      running.set(party, entry);
      await ready;
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
      await stopChild(entry.child, 'SIGTERM', 10_000);
      return entry.exited;
    },
    signal(party, signal) {
      const entry = current(party);
      if (!entry) throw new Error(`no running ${party} process to send ${signal} to`);
      entry.child.kill(signal);
    },
    alive: (party) => current(party) !== undefined,
    log: (party) => logs[party].join('').slice(-3000),
    async stop() {
      forget();
      await Promise.all([...all].map((child) => stopChild(child, 'SIGKILL', 10_000)));
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
export async function expireDeadLeases(system: PartyProcesses, party: Party): Promise<number> {
  if (system.alive(party)) throw new Error(`${party} is alive: its leases are not dead`);
  const rows = await system.query(
    party,
    `update jobs set locked_until = now() - interval '1 second' where status = 'running' returning id`,
  );
  return rows.length;
}
