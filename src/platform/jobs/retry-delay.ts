/**
 * The delay before retrying a failed job: capped exponential backoff with equal jitter.
 *
 *   ceiling = min(capMs, baseMs × 2^(attempt − 1))
 *   delay   = ⌈ceiling / 2 + random() × ceiling / 2⌉          so  ceiling/2 ≤ delay ≤ ceiling
 *
 * Equal jitter rather than full jitter: a failing receiver is never retried sooner than half the
 * backoff (full jitter may retry at once), and jobs that failed together still spread out.
 *
 * With the default { baseMs: 5 s, capMs: 1 h }, after the failure of attempt
 *   1: 2.5–5 s   2: 5–10 s   3: 10–20 s   4: 20–40 s   5: 40–80 s   6: 80–160 s   7: 2.7–5.3 min
 *   8: 5.3–10.7 min   9: 10.7–21.3 min   10: 21.3–42.7 min   11 and later: 30–60 min.
 */
import type { RetryPolicy } from './job-state.ts';

/** Milliseconds to wait after the failure of attempt `attempt` (1-based) before the next one. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const { baseMs, capMs } = policy;
  if (!(baseMs > 0) || !(capMs >= baseMs))
    throw new RangeError(`invalid retry policy: baseMs ${baseMs}, capMs ${capMs}`);
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity for huge attempts; min() then yields the cap, as it should.
  const ceiling = Math.min(capMs, baseMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.ceil(ceiling / 2 + r * (ceiling / 2)), Math.ceil(ceiling));
}
