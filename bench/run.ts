// `npm run bench` (issue 7): the whole system under load, against the database's own limit.
//
//   npm run bench                                   defaults: 8 customers, 10 s warm-up, 60 s measured, 1,000 watchers
//   npm run bench -- --duration 60 --warmup 10 --customers 8 --watchers 1000 --fanout 1
//   npm run bench -- --shop-nodes 3 --watchers 10000 [--watcher-processes 2]   push over several shop nodes (issue 19)
//   npm run bench -- --customers 8,32               one full run per count, into <out>/customers-<n>/
//   npm run bench -- --baseline <git-ref> [--rounds 2]   the same runs on both trees, interleaved (bench/baseline.ts)
//   npm run bench -- --database-url postgres://postgres@host/postgres   (or BENCH_DATABASE_URL; a superuser URL)
//   npm run bench -- --no-intake | --intake-seconds 10 --intake-concurrency 8,32 --intake-invoices N --no-pglite
//   npm run bench -- --out /tmp/bench                (where results go; default bench/results)
//   npm run bench -- --scale [10k,100k,1m]           how cost grows with the data (bench/scale.ts)
//   npm run bench -- --embedded [--baseline <ref>]   npm start on PGlite: ready and memory (bench/embedded.ts)
//
// Phases: a throwaway PostgreSQL 15 (pg_stat_statements preloaded, commit timestamps on) unless a URL
// is given; one database per party; src/main.ts runs the shop, gateway and bank as processes (and
// `--shop-nodes` − 1 more shop processes on the shop's database); idle
// memory; N customers register and log in; the watchers connect; one order alone (its SQL cost); the
// flow (warm-up, then the measured window, counters read at its start and end); the services stop; the
// webhook-intake scenario (bench/intake.ts). Then a table on the terminal, <out>/<timestamp>.json,
// <out>/latest.json and <out>/latest.svg. bench/README.md says what every figure means.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { renderChart } from './chart.ts';
import { flameGraphs, type ProfileSummary } from './flame.ts';
import { runIntakeBench } from './intake.ts';
import { newCustomer, oneOrder, runFlow, type Customer } from './flow.ts';
import { loopResults } from './loop.ts';
import { mailResult } from './mail.ts';
import { Watchers } from './push-watchers.ts';
import { startShopNodes } from './shop-nodes.ts';
import {
  checkTargets,
  formatReport,
  type BenchResults,
  type IntakeRow,
  type PerOrder,
  type SingleOrder,
} from './report.ts';
import { sleep, StepTimings } from './stats.ts';
import {
  cpuResult,
  cpuSnapshot,
  createPartyDatabases,
  DatabaseStats,
  diffCounters,
  dropPartyDatabases,
  MemorySampler,
  PARTIES,
  queriesBetween,
  startBenchSystem,
  statementsAvailable,
  withDatabase,
  type CpuSnapshot,
  type DatabaseCounters,
  type MemoryResult,
  type PerParty,
  type RunningBenchSystem,
} from './system.ts';
import { projectRoot } from '../src/platform/project-root.ts';

const ROOT = projectRoot();

export interface BenchOptions {
  durationS: number;
  warmupS: number;
  /** Customers of this run (the first of `customerCounts`). */
  customers: number;
  /** `--customers 8,32`: one full run per count (the intake scenario with the first). */
  customerCounts: number[];
  watchers: number;
  fanout: number;
  /** Shop processes on the one shop database (the launcher's and `shopNodes` − 1 more); watchers are dealt over them. */
  shopNodes: number;
  /** Processes the watcher sockets are spread over. */
  watcherProcesses: number;
  databaseUrl?: string;
  out: string;
  intake: boolean;
  intakeSeconds: number;
  intakeConcurrencies: number[];
  /** Invoices seeded per intake batch (default: sized from the measured rate); small for the smoke run. */
  intakeInvoices: number | undefined;
  pglite: boolean;
  /** How long commit counters need to reach pg_stat_database (a backend flushes at the latest ~10 s after it goes idle). */
  settleMs: number;
  progressEveryS: number;
  logLevel: string;
  /** `--baseline <git-ref>`: run both trees, interleaved, and compare (bench/baseline.ts). */
  baseline?: string;
  /** With --baseline: rounds of (baseline, current) runs; each figure is the median over them. */
  rounds: number;
  /** `--cpu-prof`: each party runs under V8's profiler; flame graphs and a summary go in the report. */
  cpuProf: boolean;
}

/** The command line of `npm run bench` (bench/baseline.ts reads it too, to pass the same options to both trees). */
export const BENCH_ARG_OPTIONS = {
  duration: { type: 'string', default: '60' },
  warmup: { type: 'string', default: '10' },
  customers: { type: 'string', default: '8' },
  watchers: { type: 'string', default: '1000' },
  fanout: { type: 'string', default: '1' },
  'shop-nodes': { type: 'string', default: '1' },
  'watcher-processes': { type: 'string', default: '1' },
  'database-url': { type: 'string' },
  out: { type: 'string', default: join(ROOT, 'bench', 'results') },
  'no-intake': { type: 'boolean', default: false },
  'intake-seconds': { type: 'string', default: '10' },
  'intake-concurrency': { type: 'string', default: '8,32' },
  'intake-invoices': { type: 'string' },
  'no-pglite': { type: 'boolean', default: false },
  'settle-ms': { type: 'string', default: '11000' },
  'progress-every': { type: 'string', default: '5' },
  'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
  baseline: { type: 'string' },
  rounds: { type: 'string', default: '2' },
  'cpu-prof': { type: 'boolean', default: false },
} as const;

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({ args: argv, options: BENCH_ARG_OPTIONS });
  const n = (name: string, v: string, min: number) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < min) throw new Error(`--${name} must be a number >= ${min} (got ${v})`);
    return x;
  };
  const customerCounts = values.customers.split(',').map((c) => n('customers', c, 1));
  if (values.rounds !== BENCH_ARG_OPTIONS.rounds.default && values.baseline === undefined)
    throw new Error('--rounds goes with --baseline <git-ref>');
  if (values['cpu-prof'] && values.baseline !== undefined)
    throw new Error('--cpu-prof profiles one plain run: the profiler costs CPU, so it has no place in a comparison');
  return {
    durationS: n('duration', values.duration, 1),
    warmupS: n('warmup', values.warmup, 0),
    customers: customerCounts[0]!,
    customerCounts,
    watchers: n('watchers', values.watchers, 0),
    fanout: n('fanout', values.fanout, 1),
    shopNodes: n('shop-nodes', values['shop-nodes'], 1),
    watcherProcesses: n('watcher-processes', values['watcher-processes'], 1),
    databaseUrl: values['database-url'] ?? process.env.BENCH_DATABASE_URL,
    out: resolve(values.out),
    intake: !values['no-intake'],
    intakeSeconds: n('intake-seconds', values['intake-seconds'], 1),
    intakeConcurrencies: values['intake-concurrency'].split(',').map((c) => n('intake-concurrency', c, 1)),
    intakeInvoices:
      values['intake-invoices'] === undefined ? undefined : n('intake-invoices', values['intake-invoices'], 1),
    pglite: !values['no-pglite'],
    settleMs: n('settle-ms', values['settle-ms'], 0),
    progressEveryS: n('progress-every', values['progress-every'], 1),
    logLevel: values['log-level'],
    ...(values.baseline !== undefined ? { baseline: values.baseline } : {}),
    rounds: n('rounds', values.rounds, 1),
    cpuProf: values['cpu-prof'],
  };
}

const say = (line = '') => process.stdout.write(`${line}\n`);

interface Cluster {
  url: string;
  stop(): Promise<void>;
}

/** Our own throwaway cluster, with commit timestamps tracked (push latency reads them; needs a restart). */
async function ownCluster(): Promise<Cluster> {
  const { startThrowawayPostgres } = (await import(pathToFileURL(join(ROOT, 'scripts', 'pg-cluster.mjs')).href)) as {
    startThrowawayPostgres: () => Promise<{ url: string; dir: string; logFile: string; stop: () => Promise<void> }>;
  };
  const cluster = await startThrowawayPostgres();
  try {
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    await c.query('alter system set track_commit_timestamp = on');
    await c.end();
    const pgCtl = join(process.env.COUNTERSIGN_PG_BIN ?? '/usr/lib/postgresql/15/bin', 'pg_ctl');
    const args = [
      'restart',
      '-D',
      join(cluster.dir, 'data'),
      '-l',
      cluster.logFile,
      '-m',
      'fast',
      '-w',
      '-t',
      '60',
      '-s',
    ];
    const asRoot = process.getuid?.() === 0;
    const r = spawnSync(asRoot ? 'runuser' : pgCtl, asRoot ? ['-u', 'postgres', '--', pgCtl, ...args] : args, {
      stdio: 'ignore',
      cwd: cluster.dir,
    });
    if (r.status !== 0)
      say("note: could not restart PostgreSQL with commit timestamps; push latency will use the rows' created_at");
    for (let i = 0; i < 100; i++) {
      const probe = new pg.Client({ connectionString: cluster.url });
      try {
        await probe.connect();
        await probe.end();
        break;
      } catch {
        await sleep(100);
      }
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

const perOrder = (d: PerParty<DatabaseCounters>, orders: number): PerParty<PerOrder> =>
  Object.fromEntries(
    PARTIES.map((p) => [
      p,
      {
        statements: orders ? Math.round((d[p].statements / orders) * 10) / 10 : Number.NaN,
        statementsWithoutTransactionControl: orders
          ? Math.round(((d[p].statements - d[p].transactionControl) / orders) * 10) / 10
          : Number.NaN,
        commits: orders ? Math.round((d[p].commits / orders) * 100) / 100 : Number.NaN,
      },
    ]),
  ) as PerParty<PerOrder>;

const scale = (d: PerParty<DatabaseCounters>, stmtFactor: number, commitFactor: number): PerParty<DatabaseCounters> =>
  Object.fromEntries(
    PARTIES.map((p) => [
      p,
      {
        statements: Math.round(d[p].statements * stmtFactor),
        transactionControl: Math.round(d[p].transactionControl * stmtFactor),
        commits: Math.round(d[p].commits * commitFactor),
        rollbacks: Math.round(d[p].rollbacks * commitFactor),
      },
    ]),
  ) as PerParty<DatabaseCounters>;

/**
 * One order from cart to paid with nothing else running: statements counted during the order itself,
 * commits after letting the backends flush; the idle system's own rate (job pollers) is measured
 * just before and subtracted.
 */
async function measureSingleOrder(
  stats: DatabaseStats,
  customer: Customer,
  productId: string,
  settleMs: number,
): Promise<SingleOrder> {
  await sleep(settleMs);
  const bgMs = Math.max(3000, settleMs);
  const a = await stats.read();
  await sleep(bgMs);
  const b = await stats.read();
  const bg = diffCounters(a, b);
  const q0 = await Promise.all(PARTIES.map((p) => stats.queries(p)));
  const c = await stats.read();
  const t0 = performance.now();
  await oneOrder(customer, productId, new StepTimings());
  const durationMs = performance.now() - t0;
  const d = await stats.read();
  const q1 = await Promise.all(PARTIES.map((p) => stats.queries(p)));
  const statements = Object.fromEntries(PARTIES.map((p, i) => [p, queriesBetween(q0[i]!, q1[i]!)])) as PerParty<
    Array<{ calls: number; query: string }>
  >;
  const e = await stats.read(settleMs);
  const raw = Object.fromEntries(
    PARTIES.map((p) => [
      p,
      { ...diffCounters(c, d)[p], commits: e[p].commits - c[p].commits, rollbacks: e[p].rollbacks - c[p].rollbacks },
    ]),
  ) as PerParty<DatabaseCounters>;
  const background = scale(bg, durationMs / bgMs, (durationMs + settleMs) / bgMs);
  const net = Object.fromEntries(
    PARTIES.map((p) => [
      p,
      {
        statements: Math.max(0, raw[p].statements - background[p].statements),
        transactionControl: Math.max(0, raw[p].transactionControl - background[p].transactionControl),
        commits: Math.max(0, raw[p].commits - background[p].commits),
        rollbacks: Math.max(0, raw[p].rollbacks - background[p].rollbacks),
      },
    ]),
  ) as PerParty<DatabaseCounters>;
  return { durationMs: Math.round(durationMs), raw, background, net, shopStatements: statements.shop, statements };
}

export async function runBench(o: BenchOptions): Promise<BenchResults> {
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    while (cleanups.length)
      await cleanups.pop()!().catch((err: unknown) =>
        say(`cleanup: ${err instanceof Error ? err.message : String(err)}`),
      );
  };
  let cluster: Cluster | undefined;
  const onSignal = () =>
    void cleanup()
      .then(() => cluster?.stop())
      .then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let adminUrl = o.databaseUrl;
    if (!adminUrl) {
      say('starting a throwaway PostgreSQL 15…');
      cluster = await ownCluster();
      adminUrl = cluster.url;
    }
    const postgresVersion = await (async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      const v = (await c.query<{ v: string }>('show server_version')).rows[0]!.v;
      await c.end();
      return v;
    })();
    const runId = `${startedAt.toISOString().replace(/\D/g, '').slice(0, 14)}_${Math.random().toString(36).slice(2, 6)}`;
    const names = await createPartyDatabases(adminUrl, runId);
    cleanups.push(() => dropPartyDatabases(adminUrl, names));
    const dbUrls = Object.fromEntries(PARTIES.map((p) => [p, withDatabase(adminUrl, names[p])])) as PerParty<string>;
    const stats = new DatabaseStats(adminUrl, names, await statementsAvailable(adminUrl));

    // --cpu-prof: V8 writes each party's profile here when the party stops (src/main.ts, profileFlags).
    const profileDir = o.cpuProf
      ? mkdtempSync(join(os.tmpdir(), 'countersign-cpu-prof-'))
      : process.env.COUNTERSIGN_CPU_PROF_DIR;
    // Every service and watcher process writes its event loop's delay here once a second (bench/loop-probe.mjs).
    const loopDir = mkdtempSync(join(os.tmpdir(), 'countersign-loop-'));
    cleanups.push(async () => rmSync(loopDir, { recursive: true, force: true }));
    say('starting shop, gateway and bank (src/main.ts)…');
    const sys: RunningBenchSystem = await startBenchSystem(dbUrls, {
      LOG_LEVEL: o.logLevel,
      ...(profileDir ? { COUNTERSIGN_CPU_PROF_DIR: profileDir } : {}),
      BENCH_LOOP_DIR: loopDir,
      NODE_OPTIONS:
        `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(join(ROOT, 'bench', 'loop-probe.mjs')).href}`.trim(),
    });
    cleanups.push(() => sys.stop());
    say(
      `ready in ${(sys.system.startedMs / 1000).toFixed(1)} s: shop ${sys.urls.shop} (pid ${sys.pids.shop}), gateway ${sys.urls.gateway} (pid ${sys.pids.gateway}), bank ${sys.urls.bank} (pid ${sys.pids.bank})`,
    );
    const shopNodes =
      o.shopNodes > 1 ? await startShopNodes(sys.pids.shop, o.shopNodes - 1, join(sys.system.dataDir, 'logs')) : [];
    cleanups.push(async () => void (await Promise.all(shopNodes.map((node) => node.stop()))));
    for (const node of shopNodes) say(`${node.name} ${node.url} (pid ${node.pid}), on the shop's database`);
    const servicePids: PerParty<number> & Record<string, number> = {
      ...sys.pids,
      ...Object.fromEntries(shopNodes.map((node) => [node.name, node.pid])),
    };
    await sleep(2000);
    const memory = new MemorySampler<string>(servicePids);
    say(
      `idle memory: ${Object.entries(memory.idle)
        .map(([p, mb]) => `${p} ${mb} MB`)
        .join(', ')}`,
    );

    const products = (await (await fetch(`${sys.urls.shop}/api/products`)).json()) as {
      products: Array<{ id: string; price: { minor: string } }>;
    };
    const product = products.products[0];
    if (!product) throw new Error('the shop has no products (SHOP_DEMO_DATA off?)');
    // Customers are dealt over the shop nodes as a load balancer would: each node serves a share of the
    // pages, not only its watchers' sockets.
    const shops = [sys.urls.shop, ...shopNodes.map((node) => node.url)];
    say(`${o.customers} customers register and log in${shops.length > 1 ? `, over ${shops.length} shop nodes` : ''}…`);
    const customers: Customer[] = [];
    for (let i = 0; i < o.customers; i += 4)
      customers.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(4, o.customers - i) }, (_, k) =>
            newCustomer(shops[(i + k) % shops.length]!, runId, i + k),
          ),
        )),
      );
    cleanups.push(async () => customers.forEach((c) => c.socket.close()));

    // One order per customer warms the code paths up and gives every customer an invoice to watch.
    const firstInvoices = new Map(
      await Promise.all(
        customers.map(async (c) => [c.index, (await oneOrder(c, product.id, new StepTimings())).invoiceId] as const),
      ),
    );
    let watchers: Watchers | undefined;
    if (o.watchers > 0) {
      say(
        `opening ${o.watchers} watcher sockets${shops.length > 1 ? ` over ${shops.length} shop nodes` : ''}${o.watcherProcesses > 1 ? ` from ${o.watcherProcesses} processes` : ''}, each on an invoice of its customer…`,
      );
      const t0 = performance.now();
      watchers = await Watchers.open(
        {
          shops,
          count: o.watchers,
          fanout: o.fanout,
          processes: o.watcherProcesses,
          firstInvoices,
          loopDir,
        },
        customers,
      );
      const w = watchers;
      cleanups.push(async () => w.close());
      say(`  open in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }

    let singleOrder: SingleOrder | null = null;
    say('one order alone (SQL statements and commits, cart to paid)…');
    singleOrder = await measureSingleOrder(stats, customers[0]!, product.id, o.settleMs);
    say(
      `  statements: shop ${singleOrder.net.shop.statements}, gateway ${singleOrder.net.gateway.statements}, bank ${singleOrder.net.bank.statements} (${singleOrder.durationMs} ms)`,
    );

    say(
      `full flow: ${o.customers} customers, ${o.warmupS} s warm-up, ${o.durationS} s measured${watchers ? `, ${watchers.size} watchers` : ''}…`,
    );
    memory.start(500);
    let w0: PerParty<DatabaseCounters> | undefined;
    let w1: PerParty<DatabaseCounters> | undefined;
    // Per statement, read before the window's counters open and after they close (outside the figures).
    let q0: Array<Map<string, { calls: number; query: string }>> = [];
    let q1: typeof q0 = [];
    let cpu0: CpuSnapshot | undefined;
    let cpu1: CpuSnapshot | undefined;
    const cpuPids: Record<string, number> = {
      ...servicePids,
      launcher: sys.system.launcher.pid!,
      ...(watchers ? watchers.pids : {}),
    };
    let windowFrom = 0;
    let windowTo = 0;
    const flow = await runFlow({
      customers,
      productId: product.id,
      warmupS: o.warmupS,
      durationS: o.durationS,
      progressEveryS: o.progressEveryS,
      hooks: watchers ? { beforePay: (c, invoiceId) => watchers.watch(c, invoiceId) } : {},
      onMeasureStart: async () => {
        q0 = await Promise.all(PARTIES.map((p) => stats.queries(p)));
        w0 = await stats.read();
        cpu0 = await cpuSnapshot(adminUrl, names, cpuPids);
        if (watchers) watchers.recording = true;
        windowFrom = Date.now();
      },
      onMeasureEnd: async () => {
        if (watchers) watchers.recording = false;
        windowTo = Date.now();
        cpu1 = await cpuSnapshot(adminUrl, names, cpuPids);
        w1 = await stats.read();
        q1 = await Promise.all(PARTIES.map((p) => stats.queries(p)));
      },
      progress: (p) => {
        let rss = '';
        try {
          const m = memory.current();
          rss = ` | RSS ${Object.entries(m)
            .map(([x, mb]) => `${x} ${Math.round(mb)}`)
            .join(' ')} MB`;
        } catch {
          // a service is gone; the run reports it
        }
        say(
          `[${String(p.elapsedS).padStart(4)} s] ${p.phase === 'warmup' ? 'warm-up' : 'measure'}  paid ${String(p.paid).padStart(6)}  ${p.ratePerS.toFixed(1).padStart(6)}/s now${rss}`,
        );
      },
    });
    const memoryResult = memory.stop();
    const window = diffCounters(w0!, w1!);
    const push = watchers ? await watchers.result(dbUrls.shop) : null;
    const mail = await mailResult(dbUrls.shop, new Date(windowFrom), new Date(windowTo));
    const loop = loopResults(loopDir, { ...servicePids, ...(watchers ? watchers.pids : {}) }, windowFrom, windowTo);
    say(`flow done: ${flow.paidOrders} paid in ${o.durationS} s (${flow.paidPerSecond}/s), ${flow.errors} errors`);
    say(
      `receipts: ${mail.sentInWindow} of ${mail.queuedInWindow} queued in the window sent in it, ${mail.backlogAtEnd} waiting at its end`,
    );
    await cleanup(); // services, sockets and their databases; the cluster stays for the intake scenario
    let profile: ProfileSummary[] | null = null;
    if (profileDir) {
      mkdirSync(o.out, { recursive: true });
      profile = flameGraphs(profileDir, [...PARTIES, ...shopNodes.map((node) => node.name)], o.out);
      say(`CPU profiles: ${profileDir}; flame graphs: ${profile.map((p) => p.svg).join(', ')}`);
    }

    let intakeRows: IntakeRow[] = [];
    let intakeNote: string | undefined;
    if (!o.intake) intakeNote = 'intake: not run (--no-intake)';
    else {
      try {
        say(
          `webhook intake: concurrency ${o.intakeConcurrencies.join(', ')}, ${o.intakeSeconds} s each${o.pglite ? ', PostgreSQL and PGlite' : ''}…`,
        );
        intakeRows = await runIntakeBench({
          adminUrl,
          concurrencies: o.intakeConcurrencies,
          seconds: o.intakeSeconds,
          pglite: o.pglite,
          ...(o.intakeInvoices ? { invoices: o.intakeInvoices } : {}),
          quietMs: o.settleMs,
          progress: (line) => say(`  ${line}`),
        });
      } catch (err) {
        // The flow's figures stand on their own: the results are written with the failure noted.
        intakeNote = `intake failed: ${err instanceof Error ? err.message : String(err)}`;
        say(intakeNote);
      }
    }

    const partial: Omit<BenchResults, 'targets'> = {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        loadAverageAtStart,
        node: process.versions.node,
        postgres: postgresVersion,
      },
      settings: { ...o, databaseUrl: o.databaseUrl ? '(given)' : '(throwaway)' },
      shopNodes: o.shopNodes,
      flow,
      sql: {
        statementsTracked: stats.statementsTracked,
        perPaidOrder: perOrder(window, flow.paidOrders),
        window,
        underLoad: Object.fromEntries(
          PARTIES.map((p, i) => [
            p,
            queriesBetween(q0[i] ?? new Map(), q1[i] ?? new Map())
              .slice(0, 40)
              .map((x) => ({
                perOrder: Math.round((x.calls / Math.max(1, flow.paidOrders)) * 100) / 100,
                query: x.query,
              })),
          ]),
        ) as PerParty<Array<{ perOrder: number; query: string }>>,
        singleOrder,
      },
      push,
      mail,
      // The sampler was given every party's pid (and the extra shop nodes').
      memory: memoryResult as PerParty<MemoryResult> & Record<string, MemoryResult>,
      cpu: cpuResult(cpu0!, cpu1!, flow.paidOrders, os.cpus().length),
      loop,
      intake: { rows: intakeRows, ...(intakeNote ? { note: intakeNote } : {}) },
      ...(profile ? { profile } : {}),
    };
    return { ...partial, targets: checkTargets(partial) };
  } finally {
    await cleanup();
    await cluster?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Writes <out>/<timestamp>.json, <out>/latest.json and <out>/latest.svg; returns their paths. */
export function writeResults(results: BenchResults, out: string): string[] {
  mkdirSync(out, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const files = [join(out, `${stamp}.json`), join(out, 'latest.json'), join(out, 'latest.svg')];
  writeFileSync(files[0]!, json);
  writeFileSync(files[1]!, json);
  writeFileSync(files[2]!, renderChart(results));
  return files;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--scale')) {
    // `--scale [10k,100k,1m]`: how cost grows with the data (bench/scale.ts), its own options.
    const { scaleMain } = await import('./scale.ts');
    await scaleMain(argv);
    return;
  }
  if (argv.includes('--embedded')) {
    // `--embedded`: `countersign start` on PGlite, ready times and memory (bench/embedded.ts), its own options.
    const { embeddedMain } = await import('./embedded.ts');
    process.exitCode = await embeddedMain(argv);
    return;
  }
  const options = parseBenchArgs(argv);
  if (options.baseline !== undefined) {
    const { runBaselineComparison } = await import('./baseline.ts');
    process.exitCode = await runBaselineComparison(argv, options);
    return;
  }
  // Several customer counts: one full run each, written to <out>/customers-<n>/ (the intake with the first).
  const several = options.customerCounts.length > 1;
  for (const [i, customers] of options.customerCounts.entries()) {
    const o = several
      ? { ...options, customers, intake: options.intake && i === 0, out: join(options.out, `customers-${customers}`) }
      : options;
    const results = await runBench(o);
    say('');
    say(formatReport(results));
    const files = writeResults(results, o.out);
    say('');
    say(`written: ${files.join(', ')}`);
    if (results.flow.paidOrders === 0) {
      say(`no order was paid in the measured window (${customers} customers): the run failed`);
      process.exitCode = 1;
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  // Exit once written: nothing of the run is left behind, and a stray keep-alive socket must not hold the terminal.
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    },
  );
}
