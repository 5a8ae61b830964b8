import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fakeClock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { createWorker, enqueue, retryDelayMs } from './jobs.ts';
import { jobById, memoryLog, platformSpec } from './fixtures/support.ts';
import { jobs } from './jobs.schema.ts';

const retry = { baseMs: 1_000, capMs: 60_000 };
const jitter = () => 0.5;

for (const engine of testEngines()) {
  describe(`worker retries (${engine})`, () => {
    let database: Database;
    before(async () => {
      database = await freshDatabase(platformSpec, engine);
    });
    after(async () => {
      await database.close();
    });
    // runDue runs every due job in the database: each test starts from an empty queue.
    beforeEach(async () => {
      await database.db.delete(jobs);
    });

    test('a succeeding handler receives the payload once and the job ends succeeded', async () => {
      const clock = fakeClock(Date.UTC(2026, 1, 1));
      const seen: unknown[] = [];
      const worker = createWorker({
        database,
        clock,
        log: memoryLog(),
        tasks: { ok1: async (payload, ctx) => void seen.push({ payload, attempt: ctx.attempt, task: ctx.task }) },
      });
      const id = await enqueue(database.db, { task: 'ok1', payload: { a: 1 } }, clock);
      assert.ok(id);
      assert.equal(await worker.runDue(), 1);
      assert.equal(await worker.runDue(), 0);
      assert.deepEqual(seen, [{ payload: { a: 1 }, attempt: 1, task: 'ok1' }]);
      const job = await jobById(database.db, id);
      assert.equal(job.status, 'succeeded');
      assert.equal(job.lockedBy, null);
    });

    test('a job whose runAt is in the future is not run before that time', async () => {
      const clock = fakeClock(Date.UTC(2026, 1, 2));
      let runs = 0;
      const worker = createWorker({ database, clock, log: memoryLog(), tasks: { later: async () => void runs++ } });
      await enqueue(database.db, { task: 'later', runAt: new Date(clock.now().getTime() + 10_000) }, clock);
      clock.advance(9_999);
      assert.equal(await worker.runDue(), 0);
      clock.advance(1);
      assert.equal(await worker.runDue(), 1);
      assert.equal(runs, 1);
    });

    test('a failing handler is retried at the backoff times, then the job is failed after maxAttempts', async () => {
      const start = Date.UTC(2026, 1, 3);
      const clock = fakeClock(start);
      const attempts: Array<{ attempt: number; at: number }> = [];
      const log = memoryLog();
      const worker = createWorker({
        database,
        clock,
        log,
        retry,
        random: jitter,
        tasks: {
          flaky: async (_payload, ctx) => {
            attempts.push({ attempt: ctx.attempt, at: clock.now().getTime() });
            throw new Error(`receiver answered 503 (attempt ${ctx.attempt})`);
          },
        },
      });
      const id = await enqueue(database.db, { task: 'flaky', maxAttempts: 4 }, clock);
      assert.ok(id);

      // Expected schedule: attempt n+1 runs retryDelayMs(n) after attempt n failed.
      const expected = [start];
      for (let n = 1; n < 4; n++) expected.push(expected[n - 1]! + retryDelayMs(n, retry, jitter));
      assert.deepEqual(
        expected.map((t) => t - start),
        [0, 750, 750 + 1_500, 750 + 1_500 + 3_000],
      );

      assert.equal(await worker.runDue(), 1);
      for (let n = 1; n < 4; n++) {
        const job = await jobById(database.db, id);
        assert.equal(job.status, 'pending');
        assert.equal(job.attempts, n);
        assert.equal(job.runAt.getTime(), expected[n]);
        assert.equal(job.lastError, `Error: receiver answered 503 (attempt ${n})`);
        clock.set(expected[n]! - 1);
        assert.equal(await worker.runDue(), 0, `attempt ${n + 1} must not run 1 ms early`);
        clock.set(expected[n]!);
        assert.equal(await worker.runDue(), 1, `attempt ${n + 1} runs when due`);
      }

      assert.deepEqual(
        attempts,
        expected.map((at, i) => ({ attempt: i + 1, at })),
      );
      const job = await jobById(database.db, id);
      assert.equal(job.status, 'failed');
      assert.equal(job.attempts, 4);
      assert.equal(job.lastError, 'Error: receiver answered 503 (attempt 4)');
      clock.advance(24 * 3_600_000);
      assert.equal(await worker.runDue(), 0, 'a failed job is final');
      assert.equal(log.entries.filter((e) => e.level === 'error' && /failed for good/.test(e.msg)).length, 1);
    });

    test('a job whose task has no handler fails with an error naming the task', async () => {
      const clock = fakeClock(Date.UTC(2026, 1, 4));
      const worker = createWorker({ database, clock, log: memoryLog(), tasks: {} });
      const id = await enqueue(database.db, { task: 'no-such-task', maxAttempts: 1 }, clock);
      assert.ok(id);
      assert.equal(await worker.runDue(), 1);
      const job = await jobById(database.db, id);
      assert.equal(job.status, 'failed');
      assert.match(job.lastError ?? '', /unknown task "no-such-task": no handler is registered/);
    });

    test('last_error is truncated and keeps no credentials from the error message', async () => {
      const clock = fakeClock(Date.UTC(2026, 1, 5));
      const worker = createWorker({
        database,
        clock,
        log: memoryLog(),
        tasks: {
          leaky: async () => {
            throw new Error(
              'connect postgres://shop:hunter2@db.internal/shop failed; Authorization: Bearer eyJhbGciOi.secret.sig ' +
                'secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ' +
                'x'.repeat(2_000),
            );
          },
        },
      });
      const id = await enqueue(database.db, { task: 'leaky', maxAttempts: 1 }, clock);
      assert.ok(id);
      await worker.runDue();
      const { lastError } = await jobById(database.db, id);
      assert.ok(lastError);
      assert.ok(lastError.length <= 500, `last_error is ${lastError.length} characters`);
      for (const secret of ['hunter2', 'eyJhbGciOi', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']) {
        assert.ok(!lastError.includes(secret), `last_error leaks ${secret}: ${lastError.slice(0, 200)}`);
      }
      assert.match(lastError, /^Error: connect postgres:\/\/shop:\[redacted\]@db\.internal\/shop failed/);
    });
  });
}
