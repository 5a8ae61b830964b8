// The report of `npm run bench -- --embedded` (bench/embedded.ts): ready times and memory per process
// against issue 19's targets for the embedded default, and against the baseline when one ran.
import { type Figure, type FigureHead, figureOf } from './compare.ts';
import type { EmbeddedOptions } from './embedded.ts';
import { type ProcessMemory, sum } from './embedded-memory.ts';

export interface StartFigures {
  readonly kind: 'first' | 'warm';
  readonly readyS: number;
  readonly wallS: number;
  /** Every process, `idleS` after ready. */
  readonly idle: ProcessMemory[];
}

export interface TreeFigures {
  readonly starts: StartFigures[];
  /** Each process's highest RSS and PSS sampled (every 500 ms) while the customers paid. */
  readonly peak: ProcessMemory[];
  /** The highest sum over all processes of one sample. */
  readonly peakTotal: { rssMb: number; pssMb: number };
  /** Every process, `idleS` after the load. */
  readonly after: ProcessMemory[];
  readonly load: { paidOrders: number; errors: number; errorSamples: string[] };
}

export interface EmbeddedReport {
  readonly at: string;
  readonly options: EmbeddedOptions;
  readonly baseline?: { ref: string; sha: string; subject: string };
  readonly rounds: Array<{ current: TreeFigures; baseline?: TreeFigures }>;
}

const ROLES = ['shop', 'gateway', 'bank', 'launcher', 'mail-catcher'] as const;
const SERVICES = new Set<string>(['shop', 'gateway', 'bank']);

/** The figures of one tree over every round: the worst (highest) of each. */
export interface Summary {
  firstReadyS: number;
  warmReadyS: [number, number];
  idle: Record<string, { rssMb: number; pssMb: number }>;
  peak: Record<string, { rssMb: number; pssMb: number }>;
  idleTotal: { rssMb: number; pssMb: number };
  peakTotal: { rssMb: number; pssMb: number };
  paidOrders: number;
}

const worst = (list: readonly ProcessMemory[][], role: string) => ({
  rssMb: Math.max(
    0,
    ...list
      .flat()
      .filter((p) => p.role === role)
      .map((p) => p.rssMb),
  ),
  pssMb: Math.max(
    0,
    ...list
      .flat()
      .filter((p) => p.role === role)
      .map((p) => p.pssMb),
  ),
});

export function summarise(trees: readonly TreeFigures[]): Summary {
  const starts = trees.flatMap((t) => t.starts);
  const idleSets = [...starts.map((s) => s.idle), ...trees.map((t) => t.after)];
  const warm = starts.filter((s) => s.kind === 'warm').map((s) => s.readyS);
  return {
    firstReadyS: Math.max(...starts.filter((s) => s.kind === 'first').map((s) => s.readyS)),
    warmReadyS: [Math.min(...warm), Math.max(...warm)],
    idle: Object.fromEntries(ROLES.map((r) => [r, worst(idleSets, r)])),
    peak: Object.fromEntries(
      ROLES.map((r) => [
        r,
        worst(
          trees.map((t) => t.peak),
          r,
        ),
      ]),
    ),
    idleTotal: {
      rssMb: Math.max(...idleSets.map((s) => sum(s, 'rssMb'))),
      pssMb: Math.max(...idleSets.map((s) => sum(s, 'pssMb'))),
    },
    peakTotal: {
      rssMb: Math.max(...trees.map((t) => t.peakTotal.rssMb)),
      pssMb: Math.max(...trees.map((t) => t.peakTotal.pssMb)),
    },
    paidOrders: trees.reduce((a, t) => a + t.load.paidOrders, 0),
  };
}

/**
 * The comparison with the baseline as figures for bench/compare-chart.ts: each round's worst figure
 * of each tree, their medians and ratio, RSS for memory. None when no baseline ran.
 */
export function embeddedFigures(r: EmbeddedReport): Figure[] {
  if (!r.baseline) return [];
  const rounds = {
    current: r.rounds.map((x) => summarise([x.current])),
    baseline: r.rounds.map((x) => summarise([x.baseline!])),
  };
  const figure = (head: FigureHead, read: (s: Summary) => number) =>
    figureOf(head, { current: rounds.current.map(read), baseline: rounds.baseline.map(read) });
  const memory = (kind: 'idle' | 'peak') => [
    ...ROLES.map((role) =>
      figure(
        { key: `${kind}.${role}`, group: `resident memory, ${kind}`, label: role, unit: 'MB', better: 'lower' },
        (s) => s[kind][role]!.rssMb,
      ),
    ),
    figure(
      { key: `${kind}.total`, group: `resident memory, ${kind}`, label: 'all together', unit: 'MB', better: 'lower' },
      (s) => s[`${kind}Total`].rssMb,
    ),
  ];
  return [
    figure(
      { key: 'ready.first', group: 'ready', label: 'first start', unit: 's', better: 'lower' },
      (s) => s.firstReadyS,
    ),
    figure(
      { key: 'ready.warm', group: 'ready', label: 'warm start (the slower)', unit: 's', better: 'lower' },
      (s) => s.warmReadyS[1],
    ),
    ...memory('idle'),
    ...memory('peak'),
    figure(
      { key: 'paid', group: 'under load', label: 'orders paid', unit: 'orders', better: 'higher' },
      (s) => s.paidOrders,
    ),
  ];
}

const mb = (m: { rssMb: number; pssMb: number }) => `${Math.round(m.rssMb)} / ${Math.round(m.pssMb)}`;
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : '–');
const verdict = (m: { rssMb: number; pssMb: number }, limit: number) =>
  m.rssMb <= limit ? 'met' : m.pssMb <= limit ? 'PSS only' : 'not met';

export function formatEmbedded(r: EmbeddedReport): string {
  const cur = summarise(r.rounds.map((x) => x.current));
  const base = r.baseline ? summarise(r.rounds.map((x) => x.baseline!)) : undefined;
  const o = r.options;
  const lines = [
    `## Embedded default (\`countersign start\` on PGlite), ${r.at.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `${r.rounds.length} round(s); per tree and round a first start on a new data directory and two warm ones, ` +
      `memory ${o.idleS} s after ready; ${o.customers} customers paying for ${o.loadS} s during the last start` +
      (r.baseline ? `; baseline ${r.baseline.sha.slice(0, 10)} (${r.baseline.subject}), interleaved.` : '.'),
    'Memory in MB as RSS / PSS, the highest of every start (idle: after start and after the load; peak: sampled every 500 ms under load).',
    '',
    `| | target | current | ${base ? 'baseline | ratio | ' : ''}verdict |`,
    `|---|---|---|${base ? '---|---|' : ''}---|`,
  ];
  const row = (name: string, target: string, c: string, b: string | undefined, rt: string, v: string) =>
    lines.push(`| ${name} | ${target} | ${c} | ${base ? `${b} | ${rt} | ` : ''}${v} |`);
  row(
    'ready, first start (s)',
    '≤ 8',
    `${cur.firstReadyS}`,
    `${base?.firstReadyS}`,
    ratio(cur.firstReadyS, base?.firstReadyS ?? 0),
    cur.firstReadyS <= 8 ? 'met' : 'not met',
  );
  row(
    'ready, warm (s)',
    '≤ 4',
    `${cur.warmReadyS[0]}–${cur.warmReadyS[1]}`,
    base ? `${base.warmReadyS[0]}–${base.warmReadyS[1]}` : undefined,
    ratio(cur.warmReadyS[1], base?.warmReadyS[1] ?? 0),
    cur.warmReadyS[1] <= 4 ? 'met' : 'not met',
  );
  type Mem = { rssMb: number; pssMb: number };
  const memRow = (name: string, c: Mem, b: Mem | undefined, limit?: number) =>
    row(
      name,
      limit ? `≤ ${limit}` : '',
      mb(c),
      b && mb(b),
      ratio(c.rssMb, b?.rssMb ?? 0),
      limit ? verdict(c, limit) : '',
    );
  for (const role of ROLES) {
    const service = SERVICES.has(role);
    memRow(`${role} idle`, cur.idle[role]!, base?.idle[role], service ? 120 : undefined);
    memRow(`${role} peak`, cur.peak[role]!, base?.peak[role], service ? 150 : undefined);
  }
  memRow('all together, idle', cur.idleTotal, base?.idleTotal, 600);
  memRow('all together, peak', cur.peakTotal, base?.peakTotal);
  lines.push('', `Orders paid under load: ${cur.paidOrders}${base ? ` (baseline ${base.paidOrders})` : ''}.`);
  lines.push("Ratios are of RSS. 'PSS only': over the target by RSS, under it once the shared pages are divided.");
  return lines.join('\n');
}
