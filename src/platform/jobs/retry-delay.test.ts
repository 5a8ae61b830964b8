import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RETRY, retryDelayMs } from './jobs.ts';

describe('retryDelayMs: capped exponential backoff with equal jitter', () => {
  const policy = { baseMs: 1_000, capMs: 60_000 };

  // attempt, random, expected delay: ceiling = min(60 s, 1 s × 2^(attempt−1)); delay = ceiling/2 + r × ceiling/2
  const table: Array<[number, number, number]> = [
    [1, 0, 500],
    [1, 0.5, 750],
    [1, 0.999999, 1_000],
    [2, 0, 1_000],
    [2, 0.5, 1_500],
    [3, 0, 2_000],
    [3, 1, 4_000],
    [6, 0, 16_000],
    [6, 0.5, 24_000],
    [7, 0, 30_000], // 64 s capped to 60 s
    [7, 0.999999, 60_000],
    [20, 0.5, 45_000],
    [1_000, 0.5, 45_000], // 2^999 overflows to Infinity; still the cap
  ];
  for (const [attempt, random, expected] of table) {
    test(`after attempt ${attempt} with jitter ${random} the delay is ${expected} ms`, () => {
      assert.equal(
        retryDelayMs(attempt, policy, () => random),
        expected,
      );
    });
  }

  test('every delay lies within [ceiling/2, ceiling] and never exceeds the cap', () => {
    for (let attempt = 1; attempt <= 40; attempt++) {
      const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const delay = retryDelayMs(attempt, policy);
        assert.ok(
          delay >= ceiling / 2 && delay <= ceiling,
          `attempt ${attempt}: ${delay} outside [${ceiling / 2}, ${ceiling}]`,
        );
      }
    }
  });

  test('delays are jittered: retries that failed together spread out', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(5, policy)));
    assert.ok(delays.size > 40, `only ${delays.size} distinct delays of 50`);
  });

  test('the default policy waits 2.5 to 5 s after the first failure and at most an hour', () => {
    assert.equal(
      retryDelayMs(1, DEFAULT_RETRY, () => 0),
      2_500,
    );
    assert.equal(
      retryDelayMs(1, DEFAULT_RETRY, () => 1),
      5_000,
    );
    assert.equal(
      retryDelayMs(30, DEFAULT_RETRY, () => 1),
      3_600_000,
    );
  });

  test('a policy without a positive base or with a cap below the base is refused', () => {
    assert.throws(() => retryDelayMs(1, { baseMs: 0, capMs: 10 }), RangeError);
    assert.throws(() => retryDelayMs(1, { baseMs: 100, capMs: 10 }), RangeError);
  });
});
