/**
 * Webhook intake benchmark (issue 7, items 2 and 6): correctly signed `payment.authorized` deliveries,
 * each for a distinct pre-created invoice, fired at the shop running as its own process, at each
 * concurrency for a fixed time; deliveries/s, p50/p99, and on PostgreSQL the commits per accepted
 * delivery (pg_stat_database.xact_commit of the shop's database, the shop's jobs paused). In the same
 * run pgbench runs bench/intake.sql — the SQL of one accepted intake transaction — at the same
 * concurrency and duration right after each intake window (its own database, the shop idle), and the ratio is printed. With
 * `pglite`, the same intake runs on embedded PGlite and is compared to PostgreSQL.
 *
 * `bench/run.ts` calls runIntakeBench; standalone: `node --import tsx bench/intake.ts --seconds 10`
 * (starts a throwaway PostgreSQL; `--concurrency 8,32`, `--no-pglite`, `--url <admin url>`, `--cpu-prof`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { fireDeliveries, type LoadResult } from './intake/load.ts';
import { commitCounter, statementCounter } from './intake/pg-stats.ts';
import { intakeScriptStatements, runPgbench } from './intake/pgbench.ts';
import { seedInvoices, type SeededBatch } from './intake/seed.ts';
import { startCountingGateway, startShopProcess, type ShopProcess } from './intake/shop-process.ts';

export interface IntakeResult {
  engine: 'postgres' | 'pglite';
  concurrency: number;
  /** Deliveries answered 2xx in the window (each accepted: a new, valid authorisation). */
  deliveries: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** PostgreSQL only: (xact_commit delta − idle commits) ÷ accepted deliveries; null on PGlite. */
  commitsPerDelivery: number | null;
  pgbench?: { tps: number; latencyMs: number };
  /** perSecond ÷ pgbench tps at the same concurrency. */
  ratioToPgbench?: number;
  /** PGlite only: perSecond ÷ PostgreSQL's perSecond at the same concurrency. */
  ratioToPostgres?: number;
  /** Non-2xx answers and failed requests (each one is a defect: every delivery should be accepted). */
  errors?: number;
  errorSamples?: string[];
  /** Calls the shop made to its gateway during the run (the accepted path makes none). */
  gatewayCalls?: number;
  /** PostgreSQL, when pg_stat_statements is loaded: statements the shop's database ran per accepted delivery (BEGIN and COMMIT included). */
  statementsPerDelivery?: number;
  /** PostgreSQL, when pg_stat_statements is loaded: the shop's COMMIT statements per accepted delivery (a cross-check of commitsPerDelivery). */
  commitStatementsPerDelivery?: number;
  /** Commits per second seen while waiting for the counter to settle before the window (0 when it got quiet). */
  idleCommitsPerSecond?: number;
  /** The batch ran out of invoices before the time was up. */
  exhausted?: boolean;
}

export interface IntakeOptions {
  adminUrl: string;
  concurrencies: number[];
  seconds: number;
  pglite: boolean;
  progress: (line: string) => void;
  /** Directory to write the shop's `node --cpu-prof` profiles to (development). */
  cpuProfDir?: string;
  /** Seed exactly this many invoices per batch instead of sizing from the rate (the smoke run in `npm test`). */
  invoices?: number;
  /**
   * How long the commit counter must stay quiet before and after each window (`--settle-ms`; 11 s
   * by default: PostgreSQL flushes an idle backend's counts up to ~10 s late). Shorter is for smoke
   * runs, whose commits per delivery may then miss the last second's.
   */
  quietMs?: number;
}

const WARMUP_SECONDS = 3;
/**
 * What the idle shop commits on its own, jobs paused: its audit sealer's poll, one read a second
 * (src/shop/audit/sealer.ts). The counter's settling tolerates it; the commits it adds between the
 * two readings (about one a second outside the window) stay in commits/delivery.
 */
const SHOP_IDLE_BACKGROUND = { backgroundPerSecond: 1 };
const fmt = (x: number, d = 1) => x.toFixed(d);

function dbUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Enough invoices for `seconds` at `rate`, with room to spare (a run that outpaces the guess ends early and says so). */
function batchSize(rate: number, seconds: number, fixed?: number): number {
  return fixed ?? Math.ceil(Math.max(rate, 100) * seconds * 1.6) + 1000;
}

function loadLine(engine: string, r: LoadResult): string {
  return (
    `  ${engine} c=${r.concurrency}: ${r.accepted} accepted in ${fmt(r.seconds)} s = ${fmt(r.perSecond)}/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms` +
    (r.errors ? `, ${r.errors} ERRORS (${r.errorSamples[0] ?? ''})` : '') +
    (r.exhausted ? ' (batch exhausted early)' : '')
  );
}

function checkVerdicts(r: LoadResult): void {
  const notAccepted = Object.entries(r.verdicts).filter(([v]) => v !== 'accepted');
  if (notAccepted.length)
    throw new Error(`intake bench: 2xx answers that were not acceptances: ${JSON.stringify(r.verdicts)}`);
}

/** Warm-up: JIT, pool connections, caches; returns the rate seen (to size the measured batches). */
async function warmUp(shop: ShopProcess, secret: string, batch: SeededBatch, concurrency: number): Promise<number> {
  const r = await fireDeliveries({ shopUrl: shop.url, secret, batch, concurrency, seconds: WARMUP_SECONDS });
  if (r.errors) throw new Error(`intake bench: warm-up deliveries failed: ${r.errorSamples.join(' | ')}`);
  return r.perSecond;
}

async function postgresRun(opts: IntakeOptions, secret: string, work: string): Promise<IntakeResult[]> {
  const { progress } = opts;
  const name = `bench_intake_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: opts.adminUrl });
  await admin.connect();
  await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  // pgbench gets its own database (same schema, its own rows), so that it can run right after each
  // intake window — close in time on a shared machine — without adding to the shop database's counters.
  const pgbName = `${name}_pgb`;
  await admin.query(`create database ${pg.escapeIdentifier(pgbName)}`);
  const url = dbUrl(opts.adminUrl, name);
  const pgbUrl = dbUrl(opts.adminUrl, pgbName);
  const results: IntakeResult[] = [];
  const gateway = await startCountingGateway();
  let shop: ShopProcess | undefined;
  const database = await openDatabase(shopDatabaseSpec, { engine: 'postgres', url, poolSize: 2 });
  const commits = await commitCounter(opts.adminUrl, name);
  const statements = await statementCounter(opts.adminUrl, name);
  try {
    const pgbRows = batchSize(100, opts.seconds, opts.invoices);
    progress(`intake/pgbench: database ${pgbName}; seeding ${pgbRows} invoices for bench/intake.sql`);
    const pgbDatabase = await openDatabase(shopDatabaseSpec, { engine: 'postgres', url: pgbUrl, poolSize: 2 });
    const pgBatch = await seedInvoices(pgbDatabase, pgbRows, 'P', progress).finally(() => pgbDatabase.close());
    const scripted = intakeScriptStatements();
    progress(`intake/postgres: database ${name}; seeding the warm-up invoices`);
    const warm = await seedInvoices(database, opts.invoices ?? 4000, 'W', progress);
    // Autovacuum's transactions count in xact_commit too: off for this throwaway database's tables
    // (the seeding ANALYZEd them), so that the counter holds the shop's commits only.
    await database.db.execute(
      sql.raw(
        `do $$ declare t record; begin for t in select tablename from pg_tables where schemaname = 'public' loop execute format('alter table %I set (autovacuum_enabled = false)', t.tablename); end loop; end $$`,
      ),
    );
    shop = await startShopProcess({
      database: { url },
      webhookSecret: secret,
      gatewayUrl: gateway.url,
      logFile: join(work, 'shop-postgres.log'),
      cpuProfDir: opts.cpuProfDir,
    });
    const rate = await warmUp(shop, secret, warm, opts.concurrencies[0] ?? 8);
    progress(`intake/postgres: shop up (pid ${shop.pid}), warm-up ${fmt(rate)}/s`);
    for (const [i, concurrency] of opts.concurrencies.entries()) {
      const batch = await seedInvoices(
        database,
        batchSize(rate * (concurrency > 8 ? 1.3 : 1), opts.seconds, opts.invoices),
        `C${String.fromCharCode(97 + i)}`,
        progress,
      );
      // The counter must have stopped moving (seeding and warm-up flushed) before the window opens;
      // with the jobs paused it then stays still, so what the window adds is the intake's own commits.
      const before = await commits.settled({ ...SHOP_IDLE_BACKGROUND, quietMs: opts.quietMs });
      if (!before.quiet)
        progress(
          `intake/postgres: the shop's database did not get quiet before the window (${fmt(before.perSecond, 2)} commits/s)`,
        );
      progress(`intake/postgres c=${concurrency}: ${batch.count} invoices ready; firing for ${opts.seconds} s`);
      const calls = gateway.requests.length;
      const sessionsBefore = await commits.sessions();
      await statements.reset();
      const load = await fireDeliveries({ shopUrl: shop.url, secret, batch, concurrency, seconds: opts.seconds });
      const gatewayCalls = gateway.requests.length - calls;
      // pgbench now, right after the intake window (the shop idles meanwhile); the script's rows are
      // walked on across windows, wrapping around when the batch is used up.
      const b = await runPgbench({
        url: pgbUrl,
        concurrency,
        seconds: opts.seconds,
        tag: 'P',
        invoices: pgBatch.count,
        amountMinor: pgBatch.amount.minor,
        currency: pgBatch.amount.currency,
      });
      const after = await commits.settled({ ...SHOP_IDLE_BACKGROUND, quietMs: opts.quietMs });
      const sessions = (await commits.sessions()) - sessionsBefore;
      checkVerdicts(load);
      const ran = await statements.read();
      const statementsPerDelivery =
        statements.available && load.accepted ? ran.reduce((sum, s) => sum + s.calls, 0) / load.accepted : undefined;
      // The shop's one background statement left running: the real-time hub's listener probe (one
      // autocommit NOTIFY per 30 s heartbeat); counted by pg_stat_statements and subtracted.
      const commitStatements = ran
        .filter((s) => s.query.trim().toLowerCase() === 'commit')
        .reduce((sum, s) => sum + s.calls, 0);
      const probes = ran
        .filter((s) => /^select pg_notify\(\$1, \$2\)$/.test(s.query.trim()))
        .reduce((sum, s) => sum + s.calls, 0);
      if (process.env.COUNTERSIGN_BENCH_VERBOSE)
        for (const s of ran) progress(`    ${String(s.calls).padStart(7)}  ${s.query.slice(0, 160)}`);
      const delta = after.value - before.value;
      // A connection's start-up commits once: the shop's pool (re)opening connections after idling is
      // not a commit of any delivery, so sessions opened in the window are subtracted as well.
      const commitsPerDelivery = load.accepted ? (delta - probes - sessions) / load.accepted : null;
      const idleRate = before.perSecond;
      progress(
        loadLine('postgres', load) +
          `; commits/delivery ${commitsPerDelivery === null ? 'n/a' : fmt(commitsPerDelivery, 3)} (xact_commit +${delta}, of which ${sessions} connection start-ups and ${probes} hub probes)` +
          (statementsPerDelivery !== undefined
            ? `; ${fmt(statementsPerDelivery, 1)} statements and ${fmt(commitStatements / Math.max(1, load.accepted), 3)} COMMITs per delivery (pg_stat_statements)`
            : ''),
      );
      results.push({
        engine: 'postgres',
        concurrency,
        deliveries: load.accepted,
        seconds: load.seconds,
        perSecond: load.perSecond,
        p50Ms: load.p50Ms,
        p99Ms: load.p99Ms,
        commitsPerDelivery,
        errors: load.errors,
        errorSamples: load.errorSamples,
        idleCommitsPerSecond: idleRate,
        exhausted: load.exhausted,
        gatewayCalls,
        ...(statementsPerDelivery !== undefined
          ? { statementsPerDelivery, commitStatementsPerDelivery: commitStatements / Math.max(1, load.accepted) }
          : {}),
        pgbench: { tps: b.tps, latencyMs: b.latencyMs },
        ratioToPgbench: load.perSecond / b.tps,
      });
      progress(
        `  pgbench c=${concurrency}: ${fmt(b.tps)} tps, latency ${fmt(b.latencyMs, 2)} ms (${b.transactions} txns, ${b.failed} failed${b.transactions > pgBatch.count ? `, rows wrapped: ${pgBatch.count} invoices` : ''}); intake ratio ${fmt(load.perSecond / b.tps, 2)}x`,
      );
      // The script must be the shop's transaction: compare its statement count with what the shop ran.
      if (statementsPerDelivery !== undefined && Math.abs(statementsPerDelivery - scripted) > 0.5) {
        progress(
          `intake/pgbench: WARNING bench/intake.sql has ${scripted} statements, the shop ran ${fmt(statementsPerDelivery, 1)} per delivery at c=${concurrency}: update the script to the shop's intake SQL`,
        );
      }
    }
    await shop.stop();
    shop = undefined;
    if (results.some((r) => r.gatewayCalls))
      progress(
        `intake/postgres: WARNING the shop called its gateway during a window: ${gateway.requests.slice(-3).join(', ')}`,
      );
  } finally {
    await shop?.stop().catch(() => undefined);
    await commits.close().catch(() => undefined);
    await statements.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    await gateway.close();
    for (const db of [name, pgbName])
      await admin.query(`drop database if exists ${pg.escapeIdentifier(db)} with (force)`).catch(() => undefined);
    await admin.end();
  }
  return results;
}

async function pgliteRun(
  opts: IntakeOptions,
  secret: string,
  work: string,
  postgresRate: number,
): Promise<IntakeResult[]> {
  const { progress } = opts;
  const dataDir = join(work, 'shop-pglite');
  const results: IntakeResult[] = [];
  const gateway = await startCountingGateway();
  let shop: ShopProcess | undefined;
  try {
    // PGlite is one process's database: everything is seeded before the shop opens it, sized from
    // PostgreSQL's rate in this run (PGlite is not expected to be faster); a batch that runs out
    // ends its window early and says so.
    progress('intake/pglite: seeding (before the shop opens the directory)');
    const database = await openDatabase(shopDatabaseSpec, { engine: 'pglite', dataDir });
    const guess = Number(process.env.COUNTERSIGN_BENCH_PGLITE_RATE ?? Math.max(50, postgresRate));
    const warm = await seedInvoices(
      database,
      opts.invoices ?? Math.ceil(guess * WARMUP_SECONDS * 1.5) + 500,
      'W',
      progress,
    );
    const batches = [];
    for (const [i] of opts.concurrencies.entries())
      batches.push(
        await seedInvoices(
          database,
          batchSize(guess, opts.seconds, opts.invoices),
          `C${String.fromCharCode(97 + i)}`,
          progress,
        ),
      );
    await database.close();
    shop = await startShopProcess({
      database: { dataDir },
      webhookSecret: secret,
      gatewayUrl: gateway.url,
      logFile: join(work, 'shop-pglite.log'),
      cpuProfDir: opts.cpuProfDir,
    });
    const rate = await warmUp(shop, secret, warm, opts.concurrencies[0] ?? 8);
    progress(`intake/pglite: shop up (pid ${shop.pid}), warm-up ${fmt(rate)}/s`);
    for (const [i, concurrency] of opts.concurrencies.entries()) {
      const calls = gateway.requests.length;
      const load = await fireDeliveries({
        shopUrl: shop.url,
        secret,
        batch: batches[i]!,
        concurrency,
        seconds: opts.seconds,
      });
      checkVerdicts(load);
      progress(loadLine('pglite', load));
      results.push({
        engine: 'pglite',
        concurrency,
        deliveries: load.accepted,
        seconds: load.seconds,
        perSecond: load.perSecond,
        p50Ms: load.p50Ms,
        p99Ms: load.p99Ms,
        commitsPerDelivery: null,
        errors: load.errors,
        errorSamples: load.errorSamples,
        exhausted: load.exhausted,
        gatewayCalls: gateway.requests.length - calls,
      });
    }
    await shop.stop();
    shop = undefined;
  } finally {
    await shop?.stop().catch(() => undefined);
    await gateway.close();
  }
  return results;
}

/** The intake scenario on PostgreSQL (with pgbench) and, when asked, on PGlite; one row per engine and concurrency. */
export async function runIntakeBench(opts: IntakeOptions): Promise<IntakeResult[]> {
  const secret = newWebhookSecret();
  const work = mkdtempSync(join(tmpdir(), 'countersign-intake-'));
  try {
    const results = await postgresRun(opts, secret, work);
    if (opts.pglite) {
      const lite = await pgliteRun(opts, secret, work, Math.max(...results.map((r) => r.perSecond)));
      for (const r of lite) {
        const base = results.find((p) => p.engine === 'postgres' && p.concurrency === r.concurrency);
        if (base && base.perSecond > 0) {
          r.ratioToPostgres = r.perSecond / base.perSecond;
          opts.progress(`  pglite c=${r.concurrency}: ${fmt(r.ratioToPostgres, 2)}x PostgreSQL`);
        }
      }
      results.push(...lite);
    }
    return results;
  } finally {
    if (!opts.cpuProfDir) rmSync(work, { recursive: true, force: true });
    else opts.progress(`intake: shop logs kept in ${work}`);
  }
}

/** The results as a terminal table. */
export function intakeTable(results: IntakeResult[]): string {
  const head = [
    'engine',
    'c',
    'deliveries/s',
    'p50 ms',
    'p99 ms',
    'commits/delivery',
    'pgbench tps',
    'ratio',
    'errors',
  ];
  const rowsOut = results.map((r) => [
    r.engine,
    String(r.concurrency),
    fmt(r.perSecond),
    fmt(r.p50Ms, 2),
    fmt(r.p99Ms, 2),
    r.commitsPerDelivery === null ? '-' : fmt(r.commitsPerDelivery, 3),
    r.pgbench ? fmt(r.pgbench.tps) : '-',
    r.ratioToPgbench !== undefined
      ? `${fmt(r.ratioToPgbench, 2)}x pgbench`
      : r.ratioToPostgres !== undefined
        ? `${fmt(r.ratioToPostgres, 2)}x postgres`
        : '-',
    String(r.errors ?? 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rowsOut.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(head), ...rowsOut.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '8,32' },
      'no-pglite': { type: 'boolean', default: false },
      url: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const concurrencies = values.concurrency.split(',').map(Number);
  if (!(seconds > 0) || concurrencies.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error(
      'usage: bench/intake.ts [--seconds 10] [--concurrency 8,32] [--no-pglite] [--url postgres://…] [--cpu-prof dir]',
    );
  type Cluster = { url: string; stop(): Promise<void> };
  const clusterModule = '../scripts/pg-cluster.mjs';
  const cluster: Cluster | undefined = values.url
    ? undefined
    : await (
        (await import(clusterModule)) as { startThrowawayPostgres: () => Promise<Cluster> }
      ).startThrowawayPostgres();
  try {
    const results = await runIntakeBench({
      adminUrl: values.url ?? cluster!.url,
      concurrencies,
      seconds,
      pglite: !values['no-pglite'],
      progress: (l) => console.log(l),
      ...(values['cpu-prof'] ? { cpuProfDir: values['cpu-prof'] } : {}),
    });
    console.log('\n' + intakeTable(results));
    console.log('\n' + JSON.stringify(results, null, 2));
  } finally {
    await cluster?.stop();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
