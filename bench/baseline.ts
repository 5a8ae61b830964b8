// `npm run bench -- --baseline <git-ref> [--rounds 2]`: the same bench on the baseline's tree and on
// the working tree, interleaved, each figure reported for both sides with its ratio.
//
// The ref is checked out beside the working tree (bench/baseline-tree.ts). Each round runs, for each
// customer count, one full `bench/run.ts` of each tree as its own process, with the same options and
// `--out` into a directory per run — each tree measured by its own bench code. The order alternates
// between rounds (baseline first in odd rounds, current first in even ones), so a machine that slowly
// gets busier or quieter weighs on both sides alike. The webhook-intake scenario runs with the first
// customer count. Then: the median of each figure over the rounds of each side, the ratio current ÷
// baseline, a terminal table, <out>/baseline.json, <out>/baseline.md (bench/compare.ts) and <out>/baseline.svg (bench/compare-chart.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  BaselineError,
  benchSupportsOption,
  currentTree,
  prepareBaselineTree,
  type BaselineTree,
} from './baseline-tree.ts';
import {
  compareRuns,
  formatComparison,
  MACHINE_CAVEAT,
  markdownComparison,
  type ComparisonHeader,
  type LooseResults,
  type RunRecord,
  type Side,
} from './compare.ts';
import { renderComparisonChart } from './compare-chart.ts';
import { BENCH_ARG_OPTIONS, type BenchOptions } from './run.ts';
import { projectRoot } from '../src/platform/project-root.ts';

const ROOT = projectRoot();
const say = (line = '') => process.stdout.write(`${line}\n`);

/** The options given on the command line (not defaulted), by name. */
function explicitOptions(argv: string[]): Set<string> {
  const { tokens } = parseArgs({ args: argv, options: BENCH_ARG_OPTIONS, tokens: true });
  return new Set(tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])));
}

/** The command line as the report shows it: no output directory, no database URL (it may hold a password). */
function describeArgv(argv: string[]): string {
  const { tokens } = parseArgs({ args: argv, options: BENCH_ARG_OPTIONS, tokens: true });
  return tokens
    .flatMap((t) => {
      if (t.kind !== 'option' || t.name === 'out') return [];
      if (t.name === 'database-url') return ['--database-url (given)'];
      return [t.value === undefined ? `--${t.name}` : `--${t.name} ${t.value}`];
    })
    .join(' ');
}

/**
 * The options both trees get, as [name, value] (value undefined for a flag). An option the baseline's
 * bench does not know is an error when the user gave it, and otherwise passed to neither side (each
 * then uses its own default, which the report says).
 */
export function sharedArgs(
  o: BenchOptions,
  explicit: Set<string>,
  tree: BaselineTree,
): { args: string[]; dropped: string[] } {
  for (const name of ['customers', 'out', 'no-intake'])
    if (!benchSupportsOption(tree.runSource, name))
      throw new BaselineError(
        `the baseline ${tree.ref} (${tree.sha.slice(0, 10)}) has a bench/run.ts without --${name}: too old to be driven by --baseline`,
      );
  const wanted: Array<[string, string | undefined]> = [
    ['duration', String(o.durationS)],
    ['warmup', String(o.warmupS)],
    ['watchers', String(o.watchers)],
    ['fanout', String(o.fanout)],
    ['settle-ms', String(o.settleMs)],
    ['progress-every', String(o.progressEveryS)],
    ['log-level', o.logLevel],
    ['shop-nodes', String(o.shopNodes)],
    ['watcher-processes', String(o.watcherProcesses)],
  ];
  if (o.intake) {
    wanted.push(['intake-seconds', String(o.intakeSeconds)], ['intake-concurrency', o.intakeConcurrencies.join(',')]);
    if (o.intakeInvoices !== undefined) wanted.push(['intake-invoices', String(o.intakeInvoices)]);
    if (!o.pglite) wanted.push(['no-pglite', undefined]);
  }
  if (explicit.has('database-url') && o.databaseUrl) wanted.push(['database-url', o.databaseUrl]);
  const args: string[] = [];
  const dropped: string[] = [];
  for (const [name, value] of wanted) {
    if (!benchSupportsOption(tree.runSource, name)) {
      if (explicit.has(name))
        throw new BaselineError(
          `the baseline ${tree.ref} (${tree.sha.slice(0, 10)}) has no --${name} in its bench/run.ts: leave the option out, or pick a later baseline`,
        );
      dropped.push(`--${name}`);
      continue;
    }
    args.push(`--${name}`, ...(value === undefined ? [] : [value]));
  }
  return { args, dropped };
}

interface PlannedRun {
  readonly round: number;
  readonly side: Side;
  readonly customers: number;
  readonly intake: boolean;
}

/** Rounds × customer counts × both sides, the side that goes first alternating between rounds. */
export function planRuns(rounds: number, customerCounts: readonly number[], intake: boolean): PlannedRun[] {
  const plan: PlannedRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    const sides: Side[] = round % 2 === 1 ? ['baseline', 'current'] : ['current', 'baseline'];
    for (const [i, customers] of customerCounts.entries())
      for (const side of sides) plan.push({ round, side, customers, intake: intake && i === 0 });
  }
  return plan;
}

let running: ChildProcess | undefined;

/** One `bench/run.ts` of one tree; its lines echoed with a prefix and kept in <dir>/output.log. */
async function runOne(cwd: string, args: string[], dir: string, prefix: string): Promise<number | null> {
  mkdirSync(dir, { recursive: true });
  const log = createWriteStream(join(dir, 'output.log'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  const t0 = performance.now();
  for (const stream of [child.stdout!, child.stderr!])
    createInterface({ input: stream }).on('line', (line) => {
      log.write(`${line}\n`);
      if (line.trim()) say(`${prefix} +${Math.round((performance.now() - t0) / 1000)}s ${line}`);
    });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  running = undefined;
  await new Promise<void>((r) => log.end(r));
  return code;
}

/** Runs the comparison; returns the exit code (1 for a failed run or a baseline that cannot be used). */
export async function runBaselineComparison(argv: string[], o: BenchOptions): Promise<number> {
  const startedAt = new Date();
  let tree: BaselineTree | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the run in progress and removing the baseline checkout…`);
    const done = () => {
      tree?.remove();
      process.exit(130);
    };
    if (running && running.exitCode === null) {
      running.once('exit', done);
      running.kill('SIGTERM'); // its bench stops the services and drops its databases
    } else done();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const current = currentTree(ROOT);
    tree = prepareBaselineTree(ROOT, o.baseline!);
    const explicit = explicitOptions(argv);
    const { args, dropped } = sharedArgs(o, explicit, tree);
    say(
      `baseline ${tree.ref} = ${tree.sha.slice(0, 10)} (${tree.subject.slice(0, 70)}) checked out in ${tree.dir}; node_modules ${tree.modules}`,
    );
    if (dropped.length)
      say(`the baseline's bench lacks ${dropped.join(', ')}: passed to neither side (each uses its own default)`);
    say(MACHINE_CAVEAT);
    const runsDir = join(o.out, 'baseline-runs', startedAt.toISOString().replace(/[:.]/g, '-'));
    const plan = planRuns(o.rounds, o.customerCounts, o.intake);
    const records: RunRecord[] = [];
    for (const [i, p] of plan.entries()) {
      const dir = join(runsDir, `r${p.round}-c${p.customers}-${p.side}`);
      const runArgs = [...args, '--customers', String(p.customers), '--out', dir, ...(p.intake ? [] : ['--no-intake'])];
      const prefix = `[${i + 1}/${plan.length} r${p.round} ${p.side} c=${p.customers}]`;
      say(
        `${prefix} ${p.side === 'baseline' ? tree.dir : ROOT}: bench/run.ts ${p.intake ? 'with' : 'without'} the intake`,
      );
      const code = await runOne(p.side === 'baseline' ? tree.dir : ROOT, runArgs, dir, prefix);
      const file = join(dir, 'latest.json');
      if (code !== 0 || !existsSync(file))
        throw new BaselineError(
          `the ${p.side} tree's bench failed (exit ${code}) in round ${p.round} at ${p.customers} customers: see ${join(dir, 'output.log')}`,
        );
      records.push({ ...p, dir, results: JSON.parse(readFileSync(file, 'utf8')) as LooseResults });
    }
    writeComparison(o, argv, startedAt, tree, current, records);
    return 0;
  } catch (err) {
    if (!(err instanceof BaselineError)) throw err;
    process.stderr.write(`bench --baseline: ${err.message}\n`);
    return 1;
  } finally {
    tree?.remove();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function writeComparison(
  o: BenchOptions,
  argv: string[],
  startedAt: Date,
  tree: BaselineTree,
  current: { head: string; dirty: boolean },
  records: RunRecord[],
): void {
  const figures = compareRuns(records, o.customerCounts);
  const header: ComparisonHeader = {
    baseline: { ref: tree.ref, sha: tree.sha, subject: tree.subject },
    current: { ...current, root: ROOT },
    rounds: o.rounds,
    order: records.map((r) => `${r.side} c=${r.customers}`).join(', '),
    options: describeArgv(argv),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}; load average at each run's start ${records.map((r) => r.results.machine?.loadAverageAtStart?.[0] ?? '?').join(', ')}`,
  };
  say('');
  say(formatComparison(figures, header));
  const json = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    caveat: MACHINE_CAVEAT,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.versions.node },
    command: header.options,
    baseline: { ...header.baseline, modules: tree.modules },
    current: header.current,
    rounds: o.rounds,
    customerCounts: o.customerCounts,
    runs: records.map((r) => ({
      round: r.round,
      side: r.side,
      customers: r.customers,
      intake: r.intake,
      dir: r.dir,
      loadAverageAtStart: r.results.machine?.loadAverageAtStart ?? null,
      paidOrders: r.results.flow?.paidOrders ?? null,
      errors: r.results.flow?.errors ?? null,
    })),
    figures,
  };
  mkdirSync(o.out, { recursive: true });
  const jsonFile = join(o.out, 'baseline.json');
  const mdFile = join(o.out, 'baseline.md');
  const svgFile = join(o.out, 'baseline.svg');
  writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(mdFile, markdownComparison(figures, header, startedAt.toISOString().slice(0, 16).replace('T', ' ')));
  writeFileSync(
    svgFile,
    renderComparisonChart(
      figures,
      `${header.current.head.slice(0, 7)} against ${header.baseline.ref} (${o.rounds} rounds)`,
    ),
  );
  say('');
  say(`written: ${jsonFile}, ${mdFile}, ${svgFile} (each run's own results in ${join(o.out, 'baseline-runs')})`);
}
