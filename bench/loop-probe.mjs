// Preloaded (`--import`) into the processes the bench measures when BENCH_LOOP_DIR is set: once a
// second it appends that second's event-loop delay (p50, p99, max) and utilisation to
// <BENCH_LOOP_DIR>/<pid>.jsonl, so the report can say whose loop a slow push waited on (a shop node's
// or the watchers'). Plain JavaScript: the services run compiled, without tsx.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const dir = process.env.BENCH_LOOP_DIR;
const RESOLUTION_MS = 10;

if (dir) {
  // The histogram records the interval between its timer's runs, so the delay is that minus the resolution.
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const delay = (ns) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 10) / 10);
  let last = performance.eventLoopUtilization();
  const file = join(dir, `${process.pid}.jsonl`);
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    const line = {
      at: Date.now(),
      p50Ms: delay(histogram.percentile(50)),
      p99Ms: delay(histogram.percentile(99)),
      maxMs: delay(histogram.max),
      utilisation: Math.round(utilization * 1000) / 1000,
    };
    histogram.reset();
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the bench removed the directory: it no longer reads
    }
  }, 1000).unref();
}
