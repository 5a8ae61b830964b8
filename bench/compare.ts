// `npm run bench -- --baseline <ref>`: the figures of every bench run of both trees side by side — the
// median over the rounds of each side and the ratio current ÷ baseline — as a terminal table, JSON
// (<out>/baseline.json) and a markdown table (<out>/baseline.md). Pure: bench/baseline.ts runs the
// trees and hands the results files over.
//
// The runs are read loosely (every field optional): each tree writes its own bench's JSON, and an
// older tree may lack a figure; a figure missing on one side has no ratio.
import { PARTIES } from './system.ts';

export type Side = 'baseline' | 'current';

/** One `bench/run.ts` of one tree: which round, which side, how many customers, and its results file. */
export interface RunRecord {
  readonly round: number;
  readonly side: Side;
  readonly customers: number;
  /** Whether this run included the webhook-intake scenario (one run per round and side does). */
  readonly intake: boolean;
  readonly dir: string;
  readonly results: LooseResults;
}

/** The parts of a results file (bench/report.ts's BenchResults) the comparison reads. */
export interface LooseResults {
  machine?: { loadAverageAtStart?: number[] };
  flow?: { paidPerSecond?: number | null; paidOrders?: number; errors?: number };
  sql?: {
    perPaidOrder?: Record<string, { statements?: number | null } | undefined> | null;
    singleOrder?: { net?: Record<string, { statements?: number | null } | undefined> } | null;
  };
  push?: { latency?: { p99Ms?: number | null } } | null;
  mail?: { backlogAtEnd?: number | null };
  memory?: Record<string, { idleMb?: number | null; peakMb?: number | null } | undefined>;
  cpu?: { perPaidOrderMs?: Record<string, number | null | undefined> };
  intake?: {
    rows?: Array<{
      engine?: string;
      concurrency?: number;
      perSecond?: number | null;
      pgbench?: { tps?: number | null };
      ratioToPgbench?: number | null;
      ratioToPostgres?: number | null;
    }>;
  };
}

export interface SideFigures {
  /** One value per run it is taken from, in run order; null where that run lacks it. */
  readonly values: Array<number | null>;
  /** Median of the non-null values; null when there are none. */
  readonly median: number | null;
  /** Half the range of the values ÷ the median (how far the rounds of one side disagree); null with fewer than 2. */
  readonly spread: number | null;
}

export interface Figure {
  readonly key: string;
  readonly group: string;
  readonly label: string;
  readonly unit: string;
  /** Which way is an improvement (a ratio below 1 is better for "lower"). */
  readonly better: 'higher' | 'lower';
  readonly baseline: SideFigures;
  readonly current: SideFigures;
  /** current.median ÷ baseline.median; null when either is missing or the baseline is 0. */
  readonly ratio: number | null;
}

export const MACHINE_CAVEAT =
  'Machines differ 2-3x (the same code made 15.6 and 6.2 paid orders/s on two machines of one kind): ' +
  'only the ratios within this run are claims; the absolute figures are this machine, at this hour.';

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Half the range ÷ the median of the numbers present; null with fewer than two or a zero median. */
export function spread(values: ReadonlyArray<number | null>): number | null {
  const xs = values.filter((v): v is number => v !== null);
  const m = median(xs);
  if (xs.length < 2 || !m) return null;
  return (Math.max(...xs) - Math.min(...xs)) / 2 / Math.abs(m);
}

/** Median of the numbers present (the mean of the middle two for an even count); null if none. */
export function median(values: ReadonlyArray<number | null>): number | null {
  const xs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** What a figure is, without its values. */
export type FigureHead = Pick<Figure, 'key' | 'group' | 'label' | 'unit' | 'better'>;

interface FigureSpec extends FigureHead {
  /** Which runs the figure is read from. */
  runs: (r: RunRecord) => boolean;
  read: (r: LooseResults) => number | null;
}

/** A figure from each side's values (one per run or round): their medians and the ratio. */
export function figureOf(head: FigureHead, values: Record<Side, Array<number | null>>): Figure {
  const side = (s: Side): SideFigures => ({ values: values[s], median: median(values[s]), spread: spread(values[s]) });
  const baseline = side('baseline');
  const current = side('current');
  const ratio =
    baseline.median !== null && current.median !== null && baseline.median !== 0
      ? current.median / baseline.median
      : null;
  const { key, group, label, unit, better } = head;
  return { key, group, label, unit, better, baseline, current, ratio };
}

function figure(spec: FigureSpec, runs: readonly RunRecord[]): Figure {
  const of = (s: Side) => runs.filter((r) => r.side === s && spec.runs(r)).map((r) => spec.read(r.results));
  return figureOf(spec, { baseline: of('baseline'), current: of('current') });
}

/** CPU keys in the order the issue lists them; "system" = the three services and PostgreSQL. */
const CPU_KEYS = ['shop', 'gateway', 'bank', 'postgres', 'launcher', 'bench', 'watchers', 'total'] as const;

function cpuSystem(r: LooseResults): number | null {
  const ms = r.cpu?.perPaidOrderMs ?? {};
  const parts = ['shop', 'gateway', 'bank', 'postgres'].map((k) => num(ms[k]));
  return parts.every((x) => x !== null) ? parts.reduce((a, b) => a! + b!, 0) : null;
}

function perCustomerSpecs(c: number): FigureSpec[] {
  const at = (r: RunRecord) => r.customers === c;
  const specs: FigureSpec[] = [
    {
      key: `flow.c${c}.paidPerSecond`,
      group: 'throughput',
      label: `paid orders/s, ${c} customers`,
      unit: '/s',
      better: 'higher',
      runs: at,
      read: (r) => num(r.flow?.paidPerSecond),
    },
    {
      key: `cpu.c${c}.system`,
      group: 'CPU per paid order',
      label: `services + PostgreSQL, ${c} customers`,
      unit: 'ms',
      better: 'lower',
      runs: at,
      read: cpuSystem,
    },
  ];
  for (const k of CPU_KEYS)
    specs.push({
      key: `cpu.c${c}.${k}`,
      group: 'CPU per paid order',
      label: `${k === 'total' ? 'total (incl. bench client)' : k}, ${c} customers`,
      unit: 'ms',
      better: 'lower',
      runs: at,
      read: (r) => num(r.cpu?.perPaidOrderMs?.[k]),
    });
  for (const p of PARTIES)
    specs.push({
      key: `sql.load.c${c}.${p}`,
      group: 'SQL statements per paid order',
      label: `${p}, under load, ${c} customers`,
      unit: '',
      better: 'lower',
      runs: at,
      read: (r) => num(r.sql?.perPaidOrder?.[p]?.statements),
    });
  for (const p of PARTIES)
    specs.push({
      key: `memory.c${c}.${p}.peak`,
      group: 'resident memory',
      label: `${p} peak, ${c} customers`,
      unit: 'MB',
      better: 'lower',
      runs: at,
      read: (r) => num(r.memory?.[p]?.peakMb),
    });
  specs.push({
    key: `push.c${c}.p99`,
    group: 'push latency',
    label: `p99, ${c} customers`,
    unit: 'ms',
    better: 'lower',
    runs: at,
    read: (r) => num(r.push?.latency?.p99Ms),
  });
  // Whether the window holds the mail it owes: a shop whose receipts fall behind does that work after
  // the window, and its CPU per paid order is then flattered (bench/mail.ts).
  specs.push({
    key: `mail.c${c}.backlog`,
    group: 'receipts',
    label: `waiting at the window's end, ${c} customers`,
    unit: '',
    better: 'lower',
    runs: at,
    read: (r) => num(r.mail?.backlogAtEnd),
  });
  return specs;
}

function intakeSpecs(runs: readonly RunRecord[]): FigureSpec[] {
  const rows = new Map<string, { engine: string; concurrency: number }>();
  for (const r of runs)
    for (const row of r.results.intake?.rows ?? [])
      if (row.engine && row.concurrency !== undefined)
        rows.set(`${row.engine}.c${row.concurrency}`, { engine: row.engine, concurrency: row.concurrency });
  const specs: FigureSpec[] = [];
  const sorted = [...rows.values()].sort((a, b) =>
    a.engine === b.engine ? a.concurrency - b.concurrency : a.engine === 'postgres' ? -1 : 1,
  );
  for (const { engine, concurrency } of sorted) {
    const pick = (r: LooseResults) =>
      r.intake?.rows?.find((row) => row.engine === engine && row.concurrency === concurrency);
    const base = { group: 'webhook intake', better: 'higher' as const, runs: (r: RunRecord) => r.intake };
    specs.push({
      ...base,
      key: `intake.${engine}.c${concurrency}.perSecond`,
      label: `${engine} deliveries/s, c=${concurrency}`,
      unit: '/s',
      read: (r) => num(pick(r)?.perSecond),
    });
    if (engine === 'postgres') {
      specs.push({
        ...base,
        key: `intake.${engine}.c${concurrency}.ratioToPgbench`,
        label: `${engine} ÷ pgbench of the same SQL, c=${concurrency}`,
        unit: 'x',
        read: (r) => num(pick(r)?.ratioToPgbench),
      });
      specs.push({
        ...base,
        key: `intake.${engine}.c${concurrency}.pgbenchTps`,
        label: `pgbench tps (the tree's bench/intake.sql), c=${concurrency}`,
        unit: '/s',
        read: (r) => num(pick(r)?.pgbench?.tps),
      });
    } else
      specs.push({
        ...base,
        key: `intake.${engine}.c${concurrency}.ratioToPostgres`,
        label: `${engine} ÷ PostgreSQL, c=${concurrency}`,
        unit: 'x',
        read: (r) => num(pick(r)?.ratioToPostgres),
      });
  }
  return specs;
}

/** Every figure of the comparison, in the order of the table. */
export function compareRuns(runs: readonly RunRecord[], customerCounts: readonly number[]): Figure[] {
  const all = () => true;
  const specs: FigureSpec[] = [];
  for (const c of customerCounts) specs.push(...perCustomerSpecs(c));
  for (const p of PARTIES)
    specs.push({
      key: `sql.alone.${p}`,
      group: 'SQL statements per paid order',
      label: `${p}, one order alone (every run)`,
      unit: '',
      better: 'lower',
      runs: all,
      read: (r) => num(r.sql?.singleOrder?.net?.[p]?.statements),
    });
  for (const p of PARTIES)
    specs.push({
      key: `memory.${p}.idle`,
      group: 'resident memory',
      label: `${p} idle (every run)`,
      unit: 'MB',
      better: 'lower',
      runs: all,
      read: (r) => num(r.memory?.[p]?.idleMb),
    });
  specs.push(...intakeSpecs(runs));
  // Regroup so that each group's rows sit together (customer counts inside a group).
  const groups = [...new Set(specs.map((s) => s.group))];
  return groups.flatMap((g) => specs.filter((s) => s.group === g).map((s) => figure(s, runs)));
}

const show = (x: number | null, unit: string): string => {
  if (x === null) return '-';
  const d = unit === 'x' ? 2 : Math.abs(x) >= 100 ? 0 : 1;
  return `${x.toFixed(d)}${unit === 'x' ? 'x' : unit && unit !== '/s' ? ` ${unit}` : ''}`;
};
const showRatio = (f: Figure): string => (f.ratio === null ? '-' : `${f.ratio.toFixed(2)}x`);
/** The larger spread of the two sides: a ratio within it is not a change. */
const showSpread = (f: Figure): string => {
  const xs = [f.baseline.spread, f.current.spread].filter((x): x is number => x !== null);
  return xs.length ? `±${Math.round(Math.max(...xs) * 100)}%` : '-';
};

export interface ComparisonHeader {
  readonly baseline: { ref: string; sha: string; subject: string };
  readonly current: { head: string; dirty: boolean; root: string };
  readonly rounds: number;
  readonly order: string;
  readonly options: string;
  /** The machine and its load average (1 min) at the start of each run. */
  readonly machine: string;
}

function headerLines(h: ComparisonHeader): string[] {
  return [
    `baseline: ${h.baseline.ref} = ${h.baseline.sha.slice(0, 10)} (${h.baseline.subject.slice(0, 80)})`,
    `current: the working tree at ${h.current.head.slice(0, 10)}${h.current.dirty ? ' with uncommitted changes' : ''}`,
    `${h.rounds} round(s), runs in the order ${h.order}; each figure is the median over the rounds of its side`,
    `options: ${h.options}`,
    `machine: ${h.machine}`,
  ];
}

const SPREAD_NOTE =
  '"rounds ±": half the range of one side\'s rounds ÷ its median (the larger side); a ratio within it is noise.';

/** The terminal table: figure, baseline, current, current ÷ baseline, which way is better, the rounds' spread. */
export function formatComparison(figures: readonly Figure[], h: ComparisonHeader): string {
  const rows = figures.map((f) => [
    f.label,
    show(f.baseline.median, f.unit),
    show(f.current.median, f.unit),
    showRatio(f),
    f.better,
    showSpread(f),
  ]);
  const head = ['figure', 'baseline', 'current', 'current/baseline', 'better', 'rounds ±'];
  const widths = head.map((x, i) => Math.max(x.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = ['== current vs baseline ==', ...headerLines(h), MACHINE_CAVEAT, SPREAD_NOTE, ''];
  let group = '';
  for (const [i, f] of figures.entries()) {
    if (f.group !== group) {
      group = f.group;
      out.push('', `-- ${group} --`, line(head), widths.map((w) => '-'.repeat(w)).join('  '));
    }
    out.push(line(rows[i]!));
  }
  return out.join('\n');
}

/** The same table in markdown, ready to paste into bench/README.md's "Baseline" section. */
export function markdownComparison(figures: readonly Figure[], h: ComparisonHeader, date: string): string {
  const out = [
    `Measured ${date} with \`npm run bench -- ${h.options}\`.`,
    '',
    ...headerLines(h).map((l) => `- ${l}`),
    '',
    `*${MACHINE_CAVEAT}* ${SPREAD_NOTE}`,
    '',
    '| | figure | baseline | current | current ÷ baseline | better | rounds ± |',
    '|---|---|---:|---:|---:|---|---:|',
  ];
  let group = '';
  for (const f of figures) {
    const g = f.group === group ? '' : f.group;
    group = f.group;
    out.push(
      `| ${g} | ${f.label} | ${show(f.baseline.median, f.unit)} | ${show(f.current.median, f.unit)} | **${showRatio(f)}** | ${f.better} | ${showSpread(f)} |`,
    );
  }
  return `${out.join('\n')}\n`;
}
