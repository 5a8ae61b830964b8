// The processes `countersign start` runs and the memory each holds, from /proc: the launcher, its mail
// catcher and the three parties, told apart by their command lines (compiled or through tsx alike).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** launcher, mail-catcher, shop, gateway, bank (or the command line's last word for anything else). */
  readonly role: string;
  readonly pid: number;
  readonly rssMb: number;
  readonly pssMb: number;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process has just exited
  }
};

/** Every process started by `pid`, itself first, children before grandchildren. */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    // The command in parentheses may hold spaces: the parent pid is the second field after it.
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : Number.NaN;
    if (Number.isInteger(ppid)) parentOf.set(Number(name), ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  return tree;
}

export function roleOf(commandLine: string): string {
  if (/bin\/countersign\.mjs/.test(commandLine)) return 'launcher';
  if (/mail\/catcher\.[jt]s/.test(commandLine)) return 'mail-catcher';
  const party = /\/(shop|gateway|bank)\/main\.[jt]s/.exec(commandLine);
  if (party) return party[1]!;
  return commandLine.trim().split(/\s+/).at(-1)?.split('/').at(-1) ?? 'unknown';
}

const kb = (text: string | undefined, field: string) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text ?? '')?.[1] ?? Number.NaN);

/** RSS and PSS of every process of the tree under `pid` that is still running. */
export function sampleTree(pid: number): ProcessMemory[] {
  const out: ProcessMemory[] = [];
  for (const p of processTree(pid)) {
    const cmd = read(`/proc/${p}/cmdline`)?.replaceAll('\0', ' ');
    const rollup = read(`/proc/${p}/smaps_rollup`);
    if (!cmd || !rollup) continue;
    const mb = (field: string) => Math.round(kb(rollup, field) / 102.4) / 10;
    out.push({ role: roleOf(cmd), pid: p, rssMb: mb('Rss'), pssMb: mb('Pss') });
  }
  return out;
}

export const sum = (ps: readonly ProcessMemory[], field: 'rssMb' | 'pssMb') =>
  Math.round(ps.reduce((a, p) => a + p[field], 0) * 10) / 10;
