// `npm run bench -- --embedded`: the embedded default as a newcomer runs it (`countersign start`, what
// `npm start` runs, on PGlite): how long it takes to be ready, and how much memory everything it runs
// holds — idle after start, at peak under a few paying customers, and idle again after them.
//
//   npm run bench -- --embedded [--customers 4] [--load-seconds 30] [--idle-seconds 15] [--rounds 1]
//                              [--baseline <git-ref>] [--out bench/results]
//
// Each round, per tree: three starts on one new data directory — the first (initdb from the
// template, migrations) and two warm ones — each ready, left idle, measured and stopped with Ctrl-C's
// SIGINT. During the last start the customers pay orders through the whole flow while every process
// is sampled. With --baseline the same runs are made on the baseline's checkout (bench/baseline-tree.ts),
// interleaved with this tree's, so that the two compare on one machine in one run.
//
// Memory is given two ways per process: RSS (what `ps` shows; it counts Node's own binary, ~45 MB of
// pages shared by all five processes, in each) and PSS (those shared pages divided among the processes
// that map them: the processes' PSS add up to what they hold together). Nothing is left behind: the
// data directories are removed and every process is stopped, all of them killed if the launcher hangs
// or the bench is interrupted. The parties log at LOG_LEVEL=warn (npm start's default is info).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/harness/wiring.ts';
import { prepareBaselineTree, type BaselineTree } from './baseline-tree.ts';
import { newCustomer, runFlow } from './flow.ts';
import { renderComparisonChart } from './compare-chart.ts';
import {
  embeddedFigures,
  formatEmbedded,
  type EmbeddedReport,
  type StartFigures,
  type TreeFigures,
} from './embedded-report.ts';
import { type ProcessMemory, processTree, sampleTree, sum } from './embedded-memory.ts';
import { projectRoot } from '../src/platform/project-root.ts';

const ROOT = projectRoot();
const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface EmbeddedOptions {
  customers: number;
  loadS: number;
  idleS: number;
  rounds: number;
  baseline?: string;
  out: string;
}

export function parseEmbeddedArgs(argv: string[]): EmbeddedOptions {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--embedded'),
    options: {
      customers: { type: 'string', default: '4' },
      'load-seconds': { type: 'string', default: '30' },
      'idle-seconds': { type: 'string', default: '15' },
      rounds: { type: 'string', default: '1' },
      baseline: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    },
    strict: true,
  });
  const count = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  return {
    customers: count('customers', values.customers, 1),
    loadS: count('load-seconds', values['load-seconds'], 1),
    idleS: count('idle-seconds', values['idle-seconds'], 1),
    rounds: count('rounds', values.rounds, 1),
    ...(values.baseline ? { baseline: values.baseline } : {}),
    out: resolve(values.out),
  };
}

interface Started {
  readonly launcher: ChildProcess;
  readonly shopUrl: string;
  /** The launcher's own "ready in" (from its start to the three parties ready). */
  readonly readyS: number;
  /** From spawning `countersign start` to that line: the command's own bootstrap included. */
  readonly wallS: number;
}

/** Runs `countersign start` of the tree at `root` on `dataDir`, on free ports; resolves when it is ready. */
async function start(root: string, dataDir: string): Promise<Started> {
  const [shop, gateway, bank] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    SHOP_PORT: String(shop),
    GATEWAY_PORT: String(gateway),
    BANK_PORT: String(bank),
    LOG_LEVEL: 'warn',
  };
  const t0 = performance.now();
  const launcher = spawn(process.execPath, [join(root, 'bin', 'countersign.mjs'), 'start'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(launcher);
  launcher.once('exit', () => running.delete(launcher));
  let output = '';
  let ready = false;
  return new Promise<Started>((done, fail) => {
    const timer = setTimeout(() => {
      killTree(launcher);
      fail(new Error(`not ready in 120 s:\n${output.slice(-2000)}`));
    }, 120_000);
    // Read to the end (a full pipe would block the launcher), kept only until the ready line.
    const onData = (chunk: Buffer) => {
      if (ready) return;
      output += chunk.toString();
      const m = /ready in ([\d.]+) s/.exec(output);
      if (!m) return;
      ready = true;
      clearTimeout(timer);
      const wallS = (performance.now() - t0) / 1000;
      done({ launcher, shopUrl: `http://127.0.0.1:${shop}`, readyS: Number(m[1]), wallS });
    };
    launcher.stdout!.on('data', onData);
    launcher.stderr!.on('data', onData);
    launcher.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`countersign start exited (${signal ?? code}) before it was ready:\n${output.slice(-2000)}`));
    });
  });
}

// The launchers running now and the data directories in use: a bench stopped by SIGINT or SIGTERM
// kills every process under the launchers and removes the directories before it exits.
const running = new Set<ChildProcess>();
const scratch = new Set<string>();
/** SIGKILL to the launcher and every process under it (the parties run in process groups of their own). */
function killTree(launcher: ChildProcess): void {
  for (const pid of processTree(launcher.pid!).reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const launcher of running) killTree(launcher);
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });

/** Ctrl-C's SIGINT to the launcher; it and everything under it are killed if it has not exited in 30 s. */
async function stop(launcher: ChildProcess): Promise<void> {
  if (launcher.exitCode !== null || launcher.signalCode !== null) return;
  const exited = new Promise<void>((r) => launcher.once('exit', () => r()));
  launcher.kill('SIGINT');
  const timeout = sleep(30_000).then(() => 'timeout' as const);
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    killTree(launcher);
    await exited;
    throw new Error('countersign start did not stop within 30 s of SIGINT (killed)');
  }
}

/** The customers' orders for `loadS` seconds while every process of the tree is sampled. */
async function load(
  o: EmbeddedOptions,
  s: Started,
  peak: Map<string, ProcessMemory>,
  total: { rssMb: number; pssMb: number },
) {
  const runId = Math.random().toString(36).slice(2, 8);
  const customers = await Promise.all(Array.from({ length: o.customers }, (_, i) => newCustomer(s.shopUrl, runId, i)));
  const products = (await (await fetch(`${s.shopUrl}/api/products`)).json()) as { products: Array<{ id: string }> };
  const product = products.products[0];
  if (!product) throw new Error('the shop has no products');
  const sampler = setInterval(() => {
    const now = sampleTree(s.launcher.pid!);
    total.rssMb = Math.max(total.rssMb, sum(now, 'rssMb'));
    total.pssMb = Math.max(total.pssMb, sum(now, 'pssMb'));
    for (const p of now) {
      const seen = peak.get(p.role);
      peak.set(p.role, {
        ...p,
        rssMb: Math.max(p.rssMb, seen?.rssMb ?? 0),
        pssMb: Math.max(p.pssMb, seen?.pssMb ?? 0),
      });
    }
  }, 500);
  try {
    const flow = await runFlow({ customers, productId: product.id, warmupS: 0, durationS: o.loadS });
    return { paidOrders: flow.paidOrders, errors: flow.errors, errorSamples: flow.errorSamples };
  } finally {
    clearInterval(sampler);
    for (const c of customers) c.socket.close();
  }
}

/** One tree's three starts on a fresh data directory; the last one under load. */
async function measureTree(o: EmbeddedOptions, root: string, label: string): Promise<TreeFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-embedded-'));
  scratch.add(dataDir);
  const starts: StartFigures[] = [];
  const peak = new Map<string, ProcessMemory>();
  const peakTotal = { rssMb: 0, pssMb: 0 };
  let loadResult: TreeFigures['load'];
  let after: ProcessMemory[] = [];
  try {
    for (const kind of ['first', 'warm', 'warm'] as const) {
      const s = await start(root, dataDir);
      try {
        await sleep(o.idleS * 1000);
        const idle = sampleTree(s.launcher.pid!);
        starts.push({ kind, readyS: s.readyS, wallS: Math.round(s.wallS * 10) / 10, idle });
        say(`  ${label} ${kind} start: ready in ${s.readyS} s; idle ${describe(idle)}`);
        if (starts.length === 3) {
          loadResult = await load(o, s, peak, peakTotal);
          say(
            `  ${label} ${o.customers} customers, ${o.loadS} s: ${loadResult.paidOrders} paid; peak ${describe([...peak.values()])}`,
          );
          await sleep(o.idleS * 1000);
          after = sampleTree(s.launcher.pid!);
        }
      } finally {
        await stop(s.launcher);
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    scratch.delete(dataDir);
  }
  return { starts, peak: [...peak.values()], peakTotal, after, load: loadResult! };
}

const describe = (ps: readonly ProcessMemory[]) =>
  `${ps.map((p) => `${p.role} ${Math.round(p.rssMb)}`).join(', ')} MB RSS (total ${Math.round(sum(ps, 'rssMb'))})`;

export async function embeddedMain(argv: string[]): Promise<number> {
  const o = parseEmbeddedArgs(argv);
  let baseline: BaselineTree | undefined;
  try {
    if (o.baseline) {
      baseline = prepareBaselineTree(ROOT, o.baseline);
      say(
        `baseline ${baseline.sha.slice(0, 10)} (${baseline.subject}) in ${baseline.dir}, modules ${baseline.modules}`,
      );
    }
    const report: EmbeddedReport = {
      at: new Date().toISOString(),
      options: o,
      ...(baseline ? { baseline: { ref: o.baseline!, sha: baseline.sha, subject: baseline.subject } } : {}),
      rounds: [],
    };
    for (let round = 1; round <= o.rounds; round++) {
      say(`round ${round} of ${o.rounds}`);
      const base = baseline ? await measureTree(o, baseline.dir, 'baseline') : undefined;
      const current = await measureTree(o, ROOT, 'current');
      report.rounds.push({ current, ...(base ? { baseline: base } : {}) });
    }
    const text = formatEmbedded(report);
    say('');
    say(text);
    mkdirSync(o.out, { recursive: true });
    const file = (ext: string) => join(o.out, `embedded-latest.${ext}`);
    writeFileSync(file('json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(file('md'), `${text}\n`);
    // With a baseline, its ratios as a chart too (one panel per kind of figure).
    if (baseline) {
      const title = `npm start on PGlite: this tree against ${o.baseline} (${o.rounds} rounds)`;
      writeFileSync(file('svg'), renderComparisonChart(embeddedFigures(report), title));
    }
    say(`written: ${['json', 'md', ...(baseline ? ['svg'] : [])].map(file).join(', ')}`);
    return report.rounds.every((r) => r.current.load.paidOrders > 0) ? 0 : 1;
  } finally {
    baseline?.remove();
  }
}
