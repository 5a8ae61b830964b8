// The event loop of each process the bench measures, as bench/loop-probe.mjs recorded it (one line a
// second per process), over the measured window.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One process's event loop over the measured window (bench/loop-probe.mjs, one line a second). */
export interface LoopResult {
  /** The worst second's p99 delay, and the longest single delay. */
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Mean utilisation over the window's seconds (1 = the loop never idle). */
  readonly utilisation: number;
  /** Seconds sampled. */
  readonly seconds: number;
}

/** The event loop of each named process between `fromMs` and `toMs` (epoch), from the probe's files in `dir`. */
export function loopResults(
  dir: string,
  pids: Record<string, number>,
  fromMs: number,
  toMs: number,
): Record<string, LoopResult> {
  const files = new Set(existsSync(dir) ? readdirSync(dir) : []);
  const out: Record<string, LoopResult> = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (!files.has(`${pid}.jsonl`)) continue;
    const lines = readFileSync(join(dir, `${pid}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { at: number; p99Ms: number; maxMs: number; utilisation: number })
      .filter((l) => l.at > fromMs && l.at <= toMs + 1000);
    if (!lines.length) continue;
    out[name] = {
      p99Ms: Math.max(...lines.map((l) => l.p99Ms)),
      maxMs: Math.max(...lines.map((l) => l.maxMs)),
      utilisation: Math.round((lines.reduce((x, l) => x + l.utilisation, 0) / lines.length) * 100) / 100,
      seconds: lines.length,
    };
  }
  return out;
}
