// Flame graphs of the V8 CPU profiles that `--cpu-prof` leaves (a `.cpuprofile` per process), as static
// SVG beside the run's other charts, and a summary of where the CPU went by kind of code. Written here
// rather than taken from a package: the flame-graph packages on npm either draw in a browser with d3
// or bring a whole profiler toolchain (0x, clinic), and the report needs one self-contained file.
//
//   node --import tsx bench/flame.ts /tmp/prof/shop [/tmp/prof/gateway …] --out bench/results
//
// Sampling is by wall clock: a sample lands on the frame where the thread was when the profiler's
// signal reached it, so on a busy machine the syscall that woke another process (a socket write to
// PostgreSQL, say) also collects the time the thread then waited for a CPU. The summary keeps those
// system calls apart ("socket writes and other system calls") for that reason.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

/** The parts of V8's .cpuprofile format this reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** One frame of the merged call tree; times in microseconds. */
export interface Frame {
  name: string;
  where: string;
  kind: Kind;
  self: number;
  total: number;
  children: Frame[];
}

/** What kind of code a frame is, for the colours and the summary. */
export type Kind = 'ours' | 'database' | 'http' | 'runtime' | 'syscall' | 'gc' | 'other';

export const KIND_LABEL: Record<Kind, string> = {
  ours: 'our code (src/, bench/)',
  database: 'drizzle-orm and pg (query building, protocol, results)',
  http: 'HTTP (hono, @hono/node-server, undici fetch)',
  runtime: "Node's own JavaScript (streams, events, async hooks, modules)",
  syscall: 'socket writes and other system calls',
  gc: 'garbage collection',
  other: 'other packages and V8 (program)',
};

const COLOURS: Record<Kind, string> = {
  ours: '#5fa85f',
  database: '#4f81bd',
  http: '#e69138',
  runtime: '#a6a6a6',
  syscall: '#c9a227',
  gc: '#cc4c4c',
  other: '#8e7cc3',
};

/** Native frames that are system calls: writes to sockets and files, reads, stats. */
const SYSTEM_CALLS = /^(write\w*|writev|read\w*|open\w*|close|fstat|stat|lstat|internalModuleStat|fsync|fdatasync)$/;

const packageOf = (url: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];

/** The kind of a frame, from its script's address (native frames have none). */
export function kindOf(functionName: string, url: string): Kind {
  if (functionName === '(garbage collector)') return 'gc';
  const pkg = packageOf(url);
  if (pkg !== undefined) {
    if (pkg === 'drizzle-orm' || pkg.startsWith('pg')) return 'database';
    if (pkg === 'hono' || pkg.startsWith('@hono/')) return 'http';
    return 'other';
  }
  if (url.includes('undici')) return 'http';
  if (url.startsWith('node:')) return 'runtime';
  if (/\/(src|bench)\//.test(url)) return 'ours';
  if (url === '' && SYSTEM_CALLS.test(functionName)) return 'syscall';
  if (url === '' && !functionName.startsWith('(')) return 'runtime'; // a native builtin: runMicrotasks, Hmac…
  return 'other';
}

const shortWhere = (url: string, line: number) => {
  if (url === '') return '';
  const pkg = packageOf(url);
  const file = pkg ? `${pkg}/${basename(url)}` : (/\/((?:src|bench)\/.*)$/.exec(url)?.[1] ?? url);
  return `${file}:${line + 1}`;
};

/** The profile's call tree with sibling frames of one function merged and the idle time left out. */
export function flameTree(profile: CpuProfile): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfById = new Map<number, number>();
  profile.samples.forEach((id, i) => selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const root = profile.nodes[0];
  if (root === undefined) throw new Error('the profile has no nodes');
  const build = (id: number): Frame | undefined => {
    const node = byId.get(id);
    if (node === undefined || node.callFrame.functionName === '(idle)') return undefined;
    const { functionName, url, lineNumber } = node.callFrame;
    const frame: Frame = {
      name: functionName || '(anonymous)',
      where: shortWhere(url, lineNumber),
      kind: kindOf(functionName, url),
      self: selfById.get(id) ?? 0,
      total: 0,
      children: [],
    };
    for (const childId of node.children ?? []) {
      const child = build(childId);
      if (child !== undefined) adopt(frame, child);
    }
    frame.children.sort((a, b) => b.total - a.total);
    frame.total = frame.self + frame.children.reduce((s, c) => s + c.total, 0);
    return frame;
  };
  return build(root.id) ?? { name: '(root)', where: '', kind: 'other', self: 0, total: 0, children: [] };
}

/** Adds `child` under `parent`, merged into a sibling of the same function if there is one. */
function adopt(parent: Frame, child: Frame): void {
  const same = parent.children.find((c) => c.name === child.name && c.where === child.where);
  if (same === undefined) {
    parent.children.push(child);
    return;
  }
  same.self += child.self;
  same.total += child.total;
  for (const grandchild of child.children) adopt(same, grandchild);
  same.children.sort((a, b) => b.total - a.total);
}

/** Busy time (µs) by kind of code, from each frame's own samples. */
export function timeByKind(tree: Frame): Record<Kind, number> {
  const out: Record<Kind, number> = { ours: 0, database: 0, http: 0, runtime: 0, syscall: 0, gc: 0, other: 0 };
  const walk = (f: Frame) => {
    out[f.kind] += f.self;
    for (const c of f.children) walk(c);
  };
  walk(tree);
  return out;
}

/** The functions with the most time of their own (µs), heaviest first. */
export function hottest(tree: Frame, n: number): { name: string; where: string; kind: Kind; self: number }[] {
  const own = new Map<string, { name: string; where: string; kind: Kind; self: number }>();
  const walk = (f: Frame) => {
    const key = `${f.name}\u0000${f.where}`;
    const seen = own.get(key);
    if (seen) seen.self += f.self;
    else own.set(key, { name: f.name, where: f.where, kind: f.kind, self: f.self });
    for (const c of f.children) walk(c);
  };
  walk(tree);
  own.delete('(root)\u0000');
  return [...own.values()].sort((a, b) => b.self - a.self).slice(0, n);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r1 = (x: number) => Math.round(x * 10) / 10;

/** An icicle-style flame graph (callers above their callees), one bar per frame of at least `minShare` of the busy time. */
export function renderFlame(tree: Frame, title: string, options: { width?: number; minShare?: number } = {}): string {
  const width = options.width ?? 1200;
  const minShare = options.minShare ?? 0.002;
  const rowH = 17;
  const top = 30 + 4 * 14;
  const busy = tree.total;
  const parts: string[] = [];
  let depth = 0;
  const draw = (f: Frame, x: number, level: number) => {
    const w = busy > 0 ? (f.total / busy) * width : 0;
    if (f.total / Math.max(busy, 1) < minShare) return;
    depth = Math.max(depth, level);
    const y = top + level * rowH;
    const share = busy > 0 ? (100 * f.total) / busy : 0;
    const label = `${f.name}${f.where ? ` ${f.where}` : ''}`;
    const tip = `${label}\n${(f.total / 1000).toFixed(1)} ms, ${share.toFixed(1)}% of busy; own ${(f.self / 1000).toFixed(1)} ms`;
    parts.push(
      `<g><title>${esc(tip)}</title><rect x="${r1(x)}" y="${y}" width="${r1(Math.max(w - 0.5, 0.5))}" height="${rowH - 1}" fill="${COLOURS[f.kind]}"/>`,
    );
    const fits = Math.floor((w - 6) / 6.2);
    if (fits >= 4) {
      const text = label.length > fits ? `${label.slice(0, fits - 1)}…` : label;
      parts.push(`<text x="${r1(x + 3)}" y="${y + 12}">${esc(text)}</text>`);
    }
    parts.push('</g>');
    let cx = x;
    for (const c of f.children) {
      draw(c, cx, level + 1);
      cx += busy > 0 ? (c.total / busy) * width : 0;
    }
  };
  draw({ ...tree, name: 'all busy time', where: '' }, 0, 0);
  const kinds = timeByKind(tree);
  const legend = (Object.keys(KIND_LABEL) as Kind[])
    .map((k, i) => {
      const x = (i % 2) * (width / 2);
      const y = 30 + Math.floor(i / 2) * 14;
      const pct = busy > 0 ? ((100 * kinds[k]) / busy).toFixed(1) : '0.0';
      return `<rect x="${r1(x)}" y="${y - 9}" width="10" height="10" fill="${COLOURS[k]}"/><text x="${r1(x + 14)}" y="${y}">${esc(`${KIND_LABEL[k]}: ${pct}%`)}</text>`;
    })
    .join('');
  const height = top + (depth + 1) * rowH + 8;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">`,
    `<text x="0" y="14" font-size="13" font-weight="bold">${esc(`${title}: ${(busy / 1000).toFixed(0)} ms busy (idle left out); width is time, callers above callees`)}</text>`,
    legend,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Reads the one .cpuprofile in `path` (a directory) or `path` itself. */
export function readProfile(path: string): CpuProfile {
  const file = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(path, f))
        .sort()
        .at(-1)
    : path;
  if (file === undefined) throw new Error(`no .cpuprofile in ${path}`);
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** The per-party summary the bench's report and JSON carry. */
export interface ProfileSummary {
  party: string;
  busyMs: number;
  byKind: Record<Kind, number>;
  hottest: { name: string; where: string; kind: Kind; ms: number }[];
  svg: string;
}

/** Renders `<out>/flame-<party>.svg` for each party's profile directory under `dir` and returns the summaries. */
export function flameGraphs(dir: string, parties: readonly string[], out: string): ProfileSummary[] {
  const summaries: ProfileSummary[] = [];
  for (const party of parties) {
    let profile: CpuProfile;
    try {
      profile = readProfile(join(dir, party));
    } catch {
      continue; // this party wrote no profile (it was not stopped cleanly): the others still count
    }
    summaries.push(writeFlame(profile, party, out));
  }
  return summaries;
}

/** Writes `<out>/flame-<name>.svg` from one profile and returns its summary. */
export function writeFlame(profile: CpuProfile, name: string, out: string): ProfileSummary {
  const tree = flameTree(profile);
  const svg = join(out, `flame-${name}.svg`);
  writeFileSync(svg, renderFlame(tree, name));
  const kinds = timeByKind(tree);
  return {
    party: name,
    busyMs: r1(tree.total / 1000),
    byKind: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, r1(v / 1000)])) as Record<Kind, number>,
    hottest: hottest(tree, 12).map((h) => ({ name: h.name, where: h.where, kind: h.kind, ms: r1(h.self / 1000) })),
    svg,
  };
}

/** The summaries as the text table the bench prints. */
export function formatSummaries(summaries: readonly ProfileSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(`${s.party}: ${s.busyMs} ms busy in the profile (${s.svg})`);
    for (const k of Object.keys(KIND_LABEL) as Kind[]) {
      const pct = s.busyMs > 0 ? (100 * s.byKind[k]) / s.busyMs : 0;
      lines.push(`  ${pct.toFixed(1).padStart(5)}%  ${KIND_LABEL[k]}`);
    }
    lines.push('  hottest functions (own time):');
    for (const h of s.hottest.slice(0, 8)) {
      const pct = s.busyMs > 0 ? (100 * h.ms) / s.busyMs : 0;
      lines.push(`  ${pct.toFixed(1).padStart(5)}%  ${h.name}${h.where ? ` ${h.where}` : ''}`);
    }
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
  if (positionals.length === 0) {
    console.error('usage: bench/flame.ts <profile dir or .cpuprofile>… [--out dir]');
    process.exit(2);
  }
  const out = values.out ?? '.';
  for (const path of positionals) {
    const name = basename(path).replace(/\.cpuprofile$/, '');
    console.log(formatSummaries([writeFlame(readProfile(path), name, out)]));
  }
}
