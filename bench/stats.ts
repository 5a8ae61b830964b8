// Small numeric helpers the benchmark shares: latency samples per step and percentiles.

/** Percentile (nearest rank) of already sorted values; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** Count, p50/p90/p99, max and mean of latency samples in milliseconds. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((s, v) => s + v, 0);
  const round = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : Number.NaN);
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    meanMs: round(sorted.length ? total / sorted.length : Number.NaN),
  };
}

/** Latency samples per named step, recorded only while `recording` is on (after the warm-up). */
export class StepTimings {
  recording = false;
  readonly samples = new Map<string, number[]>();
  readonly order: string[] = [];

  /** Times `fn` as `step`; the sample is kept only when recording. */
  async time<T>(step: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const result = await fn();
    this.add(step, performance.now() - t0);
    return result;
  }

  add(step: string, ms: number): void {
    if (!this.order.includes(step)) this.order.push(step);
    if (!this.recording) return;
    let list = this.samples.get(step);
    if (!list) this.samples.set(step, (list = []));
    list.push(ms);
  }

  summaries(): Array<{ step: string } & Summary> {
    return this.order.map((step) => ({ step, ...summarize(this.samples.get(step) ?? []) }));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A sleep that does not keep the process alive (for the losing side of a race). */
export const idle = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
