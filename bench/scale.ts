// `npm run bench -- --scale [10k,100k,1m]`: how cost grows with the data. One real paid order through
// the running system is the template (bench/scale-seed.ts clones it N times, with the system stopped);
// each size adds to the previous one (10k, then +90k, then +900k). At each size: the intake on a copy of
// the shop's database, then the system restarted and measured as users and operators meet it
// (bench/scale-measure.ts). bench/README.md, "Scale (`--scale`)", says what each figure means.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { newCustomer, oneOrder } from './flow.ts';
import { readTemplate, seedClones, snapshotKeys, type Template } from './scale-seed.ts';
import {
  countersign,
  diskUse,
  feedCatchUp,
  measurePages,
  statementDelta,
  statementTotals,
  type CommandRun,
  type DiskUse,
  type PageIds,
  type PageTiming,
} from './scale-measure.ts';
import { scaleIntake, type ScaleIntake } from './scale-intake.ts';
import { formatScale, renderScaleChart } from './scale-report.ts';
import { sleep, StepTimings } from './stats.ts';
import {
  createPartyDatabases,
  dropPartyDatabases,
  PARTIES,
  startBenchSystem,
  withDatabase,
  type PerParty,
  type RunningBenchSystem,
} from './system.ts';
import { projectRoot } from '../src/platform/project-root.ts';

const ROOT = projectRoot();
const say = (line = '') => process.stdout.write(`${line}\n`);

export interface ScaleOptions {
  sizes: number[];
  databaseUrl?: string | undefined;
  out: string;
  samples: number;
  intake: boolean;
  intakeSeconds: number;
  intakeConcurrency: number;
  feedSeconds: number;
}

export function parseSizes(text: string): number[] {
  return text.split(',').map((s) => {
    const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim());
    if (!m) throw new Error(`--scale: sizes like 10k,100k,1m (got ${s})`);
    return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1));
  });
}

export function parseScaleArgs(argv: string[]): ScaleOptions {
  const i = argv.indexOf('--scale');
  const next = argv[i + 1];
  const sizes = next && !next.startsWith('--') ? next : '10k,100k';
  const rest = argv.filter((_, k) => k !== i && !(k === i + 1 && sizes === next));
  const { values } = parseArgs({
    args: rest,
    options: {
      'database-url': { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results') },
      samples: { type: 'string', default: '30' },
      'no-intake': { type: 'boolean', default: false },
      'intake-seconds': { type: 'string', default: '8' },
      'intake-concurrency': { type: 'string', default: '8' },
      'feed-seconds': { type: 'string', default: '60' },
    },
  });
  return {
    sizes: parseSizes(sizes).sort((a, b) => a - b),
    databaseUrl: values['database-url'] ?? process.env.BENCH_DATABASE_URL,
    out: resolve(values.out),
    samples: Number(values.samples),
    intake: !values['no-intake'],
    intakeSeconds: Number(values['intake-seconds']),
    intakeConcurrency: Number(values['intake-concurrency']),
    feedSeconds: Number(values['feed-seconds']),
  };
}

export interface ScaleSize {
  size: number;
  paidOrders: number;
  seeding: { seconds: number; rows: PerParty<number>; auditEntries: number };
  disk: DiskUse & { bytesPerAddedOrder: PerParty<number> };
  check?: { ledgerVerify: CommandRun; auditVerify: CommandRun };
  intake?: ScaleIntake;
  pages: PageTiming[];
  reconcile: Record<string, unknown>;
  /** perSecond: entries ÷ (seconds − the command's own start-up, `countersign --help`). */
  audit: {
    entries: number;
    seconds: number;
    startupSeconds: number;
    perSecond: number;
    peakRssMb: number | null;
    exitCode: number | null;
  };
  ledger: { seconds: number; exitCode: number | null };
  feed: { events: number; seconds: number; perSecond: number; complete: boolean };
}

export interface ScaleResults {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; loadAverageAtStart: number[]; node: string };
  template: Record<string, Record<string, number>>;
  baselineIntake?: ScaleIntake;
  sizes: ScaleSize[];
}

async function clientsFor(urls: PerParty<string>): Promise<PerParty<pg.Client>> {
  const out = {} as PerParty<pg.Client>;
  for (const p of PARTIES) {
    out[p] = new pg.Client({ connectionString: urls[p] });
    await out[p].connect();
  }
  return out;
}
const closeAll = (c: PerParty<pg.Client>) => Promise.all(PARTIES.map((p) => c[p].end()));

/** Waits until the template order has settled: captured at the gateway, no one-off job left anywhere. */
async function settle(c: PerParty<pg.Client>, sessionId: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const s = await c.gateway.query<{ status: string }>('select status from payment_sessions where id = $1', [
      sessionId,
    ]);
    let busy = 0;
    for (const p of PARTIES)
      busy += Number(
        (
          await c[p].query<{ n: string }>(
            `select count(*) n from jobs where status in ('pending', 'running') and repeat_seconds is null and run_at < now() + interval '1 minute'`,
          )
        ).rows[0]!.n,
      );
    if (s.rows[0]?.status === 'captured' && busy === 0) return;
    await sleep(500);
  }
  say(`  WARNING: the template order did not settle in 60 s (captured, no job left); cloned as it is`);
}

interface Ctx {
  o: ScaleOptions;
  adminUrl: string;
  names: PerParty<string>;
  urls: PerParty<string>;
  dataDir: string;
  env: Record<string, string>;
}

async function makeTemplate(ctx: Ctx): Promise<{ tpl: Template; ids: PageIds }> {
  const sys = await startBenchSystem(ctx.urls, ctx.env);
  const c = await clientsFor(ctx.urls);
  try {
    const customer = await newCustomer(sys.urls.shop, 'scale', 0);
    const products = (await (await fetch(`${sys.urls.shop}/api/products`)).json()) as {
      products: Array<{ id: string }>;
    };
    const before = await snapshotKeys(c);
    const seq = Number((await c.shop.query<{ s: string }>('select coalesce(max(seq), 0) s from audit_log')).rows[0]!.s);
    const order = await oneOrder(customer, products.products[0]!.id, new StepTimings());
    customer.socket.close();
    await settle(c, order.sessionId);
    await sleep(1000);
    await sys.stop();
    const user = await c.shop.query<{ id: string }>('select id from users where email = $1', [customer.email]);
    const tpl = await readTemplate(c, before, user.rows[0]!.id, seq);
    const inv = await c.shop.query<{ order_id: string; number: string }>(
      'select i.order_id, o.number::text from invoices i join orders o on o.id = i.order_id where i.id = $1',
      [order.invoiceId],
    );
    const ids: PageIds = {
      heavyEmail: customer.email,
      invoiceId: order.invoiceId,
      orderId: inv.rows[0]!.order_id,
      orderNumber: inv.rows[0]!.number,
      sessionId: order.sessionId,
    };
    return { tpl, ids };
  } catch (err) {
    await sys.stop().catch(() => undefined);
    throw err;
  } finally {
    await closeAll(c);
  }
}

const dbEnv = (ctx: Ctx) => ({
  DATA_DIR: ctx.dataDir,
  SHOP_DATABASE_URL: ctx.urls.shop,
  GATEWAY_DATABASE_URL: ctx.urls.gateway,
  BANK_DATABASE_URL: ctx.urls.bank,
});

/** The operator's verifications, as run after seeding the first size (both must be clean). */
async function verifyBooks(ctx: Ctx): Promise<{ ledgerVerify: CommandRun; auditVerify: CommandRun }> {
  const ledgerVerify = await countersign(['ledger', 'verify'], dbEnv(ctx));
  let auditVerify = await countersign(['audit', 'verify'], dbEnv(ctx));
  if (auditVerify.exitCode !== 0 && /checkpoint/i.test(auditVerify.stdout + auditVerify.stderr))
    auditVerify = await countersign(['audit', 'verify', '--allow-no-checkpoint'], dbEnv(ctx));
  for (const [name, r] of [
    ['ledger verify', ledgerVerify],
    ['audit verify', auditVerify],
  ] as const) {
    say(`  countersign ${name}: exit ${r.exitCode} in ${r.seconds.toFixed(1)} s`);
    for (const line of `${r.stdout}${r.stderr}`.trim().split('\n').slice(0, 12)) say(`    | ${line}`);
  }
  return { ledgerVerify, auditVerify };
}

/** One reconciliation with 1% of attempts set pending again: `countersign reconcile`, timed and counted. */
async function reconcileAtSize(ctx: Ctx, sys: RunningBenchSystem, size: number): Promise<Record<string, unknown>> {
  const c = new pg.Client({ connectionString: ctx.urls.shop });
  await c.connect();
  try {
    const pending = Math.max(1, Math.round(size / 100));
    const picked = await c.query<{ id: string; status: string }>(
      `with p as (select id, status from payment_attempts where status in ('captured', 'paid') order by random() limit $1)
       update payment_attempts a set status = 'pending' from p where a.id = p.id returning a.id, p.status`,
      [pending],
    );
    const before = { shop: await statementTotals(ctx.adminUrl, ctx.names.shop) };
    const gw0 = await statementTotals(ctx.adminUrl, ctx.names.gateway);
    const run = await countersign(['reconcile', '--json', '--limit', '1000', '--days', '1'], {
      DATA_DIR: ctx.dataDir,
      COUNTERSIGN_SHOP_URL: sys.urls.shop,
      COUNTERSIGN_GATEWAY_URL: sys.urls.gateway,
    });
    const shop = statementDelta(before.shop, await statementTotals(ctx.adminUrl, ctx.names.shop));
    const gateway = statementDelta(gw0, await statementTotals(ctx.adminUrl, ctx.names.gateway));
    let report: Record<string, unknown> = {};
    try {
      report = JSON.parse(run.stdout) as Record<string, unknown>;
    } catch {
      report = { unparsed: run.stdout.slice(0, 500), stderr: run.stderr.slice(0, 500) };
    }
    const still = await c.query<{ n: string }>(
      `select count(*) n from payment_attempts where id = any($1) and status = 'pending'`,
      [picked.rows.map((r) => r.id)],
    );
    // Back as they were, for the next size.
    for (const status of new Set(picked.rows.map((r) => r.status)))
      await c.query(`update payment_attempts set status = $2 where id = any($1)`, [
        picked.rows.filter((r) => r.status === status).map((r) => r.id),
        status,
      ]);
    const r = report as { polled?: number; scope?: { compared?: number }; status_reads?: number; remaining?: number };
    return {
      pendingSet: picked.rowCount,
      seconds: Math.round(run.seconds * 100) / 100,
      exitCode: run.exitCode,
      compared: r.scope?.compared,
      polled: r.polled,
      statusReads: r.status_reads,
      remaining: r.remaining,
      stillPending: Number(still.rows[0]!.n),
      shopStatements: shop.statements,
      gatewayStatements: gateway.statements,
      shopTop: shop.top,
    };
  } finally {
    await c.end();
  }
}

/** CPU seconds a process has used so far (/proc/<pid>/stat: user and system time, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Waits until each of `pids` used under 5% of a core for 2 s running (at most 180 s); the seconds it waited. */
async function waitUntilIdle(pids: readonly number[]): Promise<number> {
  const t0 = performance.now();
  let quiet = 0;
  let before = pids.map(cpuSeconds);
  while (quiet < 2 && performance.now() - t0 < 180_000) {
    await sleep(1000);
    const now = pids.map(cpuSeconds);
    quiet = now.every((cpu, i) => cpu - before[i]! < 0.05) ? quiet + 1 : 0;
    before = now;
  }
  return (performance.now() - t0) / 1000;
}

async function measureSize(ctx: Ctx, ids: PageIds, size: number): Promise<Omit<ScaleSize, 'seeding' | 'disk'>> {
  // The command line's own start (compiling its entry, loading the modules) is measured apart.
  const startup = await countersign(['--help'], dbEnv(ctx));
  const audit0 = await countersign(['audit', 'verify', '--allow-no-checkpoint'], dbEnv(ctx));
  const ledger0 = await countersign(['ledger', 'verify'], dbEnv(ctx));
  const c = new pg.Client({ connectionString: ctx.urls.shop });
  await c.connect();
  const entries = Number((await c.query<{ n: string }>('select count(*) n from audit_log')).rows[0]!.n);
  const paidOrders = Number(
    (await c.query<{ n: string }>(`select count(*) n from invoices where status = 'paid'`)).rows[0]!.n,
  );
  await c.end();
  const net = Math.max(0.001, audit0.seconds - startup.seconds);
  say(
    `  audit verify: ${entries} entries in ${audit0.seconds.toFixed(1)} s (${startup.seconds.toFixed(1)} s of it the command's start; ${Math.round(entries / net)}/s), peak RSS ${audit0.peakRssMb} MB (start alone ${startup.peakRssMb} MB), exit ${audit0.exitCode}; ledger verify ${ledger0.seconds.toFixed(1)} s, exit ${ledger0.exitCode}`,
  );
  const sys = await startBenchSystem(ctx.urls, ctx.env);
  try {
    // A service that has just started on a grown database catches up first (the audit checkpointer
    // walks the entries seeded since its last checkpoint, jobs come due): pages timed during that
    // would measure the catching up, not the page.
    const settled = await waitUntilIdle(Object.values(sys.pids));
    say(`  the services settled ${settled.toFixed(0)} s after their start`);
    say('  pages…');
    const pages = await measurePages(sys.urls.shop, ids, ctx.o.samples, say);
    say('  reconcile with 1% of attempts pending…');
    const reconcile = await reconcileAtSize(ctx, sys, size);
    say(`    ${JSON.stringify({ ...reconcile, shopTop: undefined })}`);
    const secrets = JSON.parse(readFileSync(join(ctx.dataDir, 'secrets.json'), 'utf8')) as {
      demoMerchantApiKey: string;
    };
    say('  event feed from the start…');
    const feed = await feedCatchUp(sys.urls.gateway, secrets.demoMerchantApiKey, ctx.o.feedSeconds);
    say(
      `    ${feed.events} events in ${feed.seconds.toFixed(1)} s = ${feed.perSecond}/s${feed.complete ? '' : ' (stopped)'}`,
    );
    return {
      size,
      paidOrders,
      pages,
      reconcile,
      audit: {
        entries,
        seconds: Math.round(audit0.seconds * 100) / 100,
        startupSeconds: Math.round(startup.seconds * 100) / 100,
        perSecond: Math.round(entries / net),
        peakRssMb: audit0.peakRssMb,
        exitCode: audit0.exitCode,
      },
      ledger: { seconds: Math.round(ledger0.seconds * 100) / 100, exitCode: ledger0.exitCode },
      feed,
    };
  } finally {
    await sys.stop();
  }
}

export async function runScale(o: ScaleOptions): Promise<ScaleResults> {
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  let cluster: { url: string; stop(): Promise<void> } | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-scale-'));
  let names: PerParty<string> | undefined;
  let adminUrl = o.databaseUrl;
  try {
    if (!adminUrl) {
      say('starting a throwaway PostgreSQL 15…');
      const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'pg-cluster.mjs')).href)) as {
        startThrowawayPostgres: () => Promise<{ url: string; stop(): Promise<void> }>;
      };
      cluster = await mod.startThrowawayPostgres();
      adminUrl = cluster.url;
    }
    const runId = `scale${startedAt.toISOString().replace(/\D/g, '').slice(0, 14)}`;
    names = await createPartyDatabases(adminUrl, runId);
    const urls = Object.fromEntries(PARTIES.map((p) => [p, withDatabase(adminUrl!, names![p])])) as PerParty<string>;
    const ctx: Ctx = { o, adminUrl, names, urls, dataDir, env: { LOG_LEVEL: 'warn', DATA_DIR: dataDir } };
    say('the template: one paid order through the running system…');
    const { tpl, ids } = await makeTemplate(ctx);
    const template = Object.fromEntries(
      PARTIES.map((p) => [p, Object.fromEntries([...tpl.rows[p]].map(([t, k]) => [t, k.length]))]),
    );
    say(`  ${JSON.stringify(template)}; ${tpl.audit.length} audit entries; ${tpl.ids.length} ids rewritten per clone`);
    const baselineIntake = o.intake ? await scaleIntake(ctx, 0, say) : undefined;
    let disk = await diskUse(adminUrl, names, urls);
    const sizes: ScaleSize[] = [];
    let done = 0;
    for (const size of o.sizes) {
      say(`size ${size}: seeding clones ${done + 1}..${size}…`);
      const c = await clientsFor(urls);
      const seeding = await seedClones(
        c,
        tpl,
        { from: done + 1, to: size, customersBefore: Math.ceil(done / 20) },
        say,
      ).finally(() => closeAll(c));
      say(
        `  seeded in ${seeding.seconds.toFixed(1)} s: ${JSON.stringify(seeding.rows)} rows, ${seeding.auditEntries} audit entries`,
      );
      const now = await diskUse(adminUrl, names, urls);
      const bytesPerAddedOrder = Object.fromEntries(
        PARTIES.map((p) => [p, Math.round((now.bytes[p] - disk.bytes[p]) / (size - done))]),
      ) as PerParty<number>;
      say(`  bytes on disk per added order: ${JSON.stringify(bytesPerAddedOrder)}`);
      disk = now;
      const check = sizes.length === 0 ? await verifyBooks(ctx) : undefined;
      const intake = o.intake ? await scaleIntake(ctx, size, say) : undefined;
      const measured = await measureSize(ctx, ids, size);
      sizes.push({
        ...measured,
        seeding: {
          seconds: Math.round(seeding.seconds * 10) / 10,
          rows: seeding.rows,
          auditEntries: seeding.auditEntries,
        },
        disk: { ...now, bytesPerAddedOrder },
        ...(check ? { check } : {}),
        ...(intake ? { intake } : {}),
      });
      done = size;
    }
    return {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadAverageAtStart, node: process.versions.node },
      template,
      ...(baselineIntake ? { baselineIntake } : {}),
      sizes,
    };
  } finally {
    if (names && adminUrl) await dropPartyDatabases(adminUrl, names).catch(() => undefined);
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function scaleMain(argv: string[]): Promise<void> {
  const o = parseScaleArgs(argv);
  const results = await runScale(o);
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, 'scale-latest.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const md = formatScale(results);
  writeFileSync(join(o.out, 'scale-latest.md'), `${md}\n`);
  writeFileSync(join(o.out, 'scale-latest.svg'), renderScaleChart(results));
  say('');
  say(md);
  say(`written: ${file}, ${join(o.out, 'scale-latest.md')}, ${join(o.out, 'scale-latest.svg')}`);
}

export type { Ctx as ScaleContext };
