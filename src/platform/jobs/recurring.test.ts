import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { fakeClock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { createWorker, recurringKey, registerRecurring } from './jobs.ts';
import { memoryLog, platformSpec, scalar } from './fixtures/support.ts';
import { jobs } from './jobs.schema.ts';

async function recurringRows(database: Database, task: string) {
  return database.db
    .select()
    .from(jobs)
    .where(eq(jobs.key, recurringKey(task)));
}

for (const engine of testEngines()) {
  describe(`recurring jobs (${engine})`, () => {
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

    test('a recurring job runs at once, then again every N seconds after each run', async () => {
      const start = Date.UTC(2026, 2, 1);
      const clock = fakeClock(start);
      const runs: number[] = [];
      const payloads: unknown[] = [];
      const worker = createWorker({
        database,
        clock,
        log: memoryLog(),
        tasks: {
          reconcile: async (payload) => {
            runs.push(clock.now().getTime() - start);
            payloads.push(payload);
          },
        },
      });
      await registerRecurring(database.db, [{ task: 'reconcile', everySeconds: 30, payload: { n: 1 } }], clock);

      assert.equal(await worker.runDue(), 1, 'due at registration');
      for (let k = 1; k <= 3; k++) {
        clock.set(start + k * 30_000 - 1);
        assert.equal(await worker.runDue(), 0, `run ${k + 1} is not due 1 ms early`);
        clock.set(start + k * 30_000);
        assert.equal(await worker.runDue(), 1, `run ${k + 1} is due 30 s after run ${k}`);
      }
      assert.deepEqual(runs, [0, 30_000, 60_000, 90_000]);
      assert.deepEqual(payloads, Array(4).fill({ n: 1 }));
      const [row] = await recurringRows(database, 'reconcile');
      assert.equal(row?.status, 'pending');
      assert.equal(row?.attempts, 0);
      assert.equal(row?.runAt.getTime(), start + 120_000);
    });

    test('registering the same recurring job twice (two nodes) keeps one row with the latest period', async () => {
      const clock = fakeClock(Date.UTC(2026, 2, 2));
      await registerRecurring(database.db, [{ task: 'expire-invoices', everySeconds: 60 }], clock);
      await Promise.all([
        registerRecurring(database.db, [{ task: 'expire-invoices', everySeconds: 60 }], clock),
        registerRecurring(database.db, [{ task: 'expire-invoices', everySeconds: 60 }], clock),
      ]);
      await registerRecurring(database.db, [{ task: 'expire-invoices', everySeconds: 90 }], clock);
      const rows = await recurringRows(database, 'expire-invoices');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.repeatSeconds, 90);
    });

    test('two workers started with the same recurring list leave one row and run it once per period', async () => {
      const clock = fakeClock(Date.UTC(2026, 2, 3));
      let runs = 0;
      const make = (workerId: string) =>
        createWorker({
          database,
          clock,
          workerId,
          pollIntervalMs: 10_000,
          log: memoryLog(),
          tasks: { relay: async () => void runs++ },
          recurring: [{ task: 'relay', everySeconds: 5 }],
        });
      const a = make('node-a');
      const b = make('node-b');
      await Promise.all([a.start(), b.start()]);
      await Promise.all([a.stop(), b.stop()]);
      assert.equal((await recurringRows(database, 'relay')).length, 1);
      assert.equal(runs, 1, 'the first run happened once, on whichever node claimed it');
      clock.advance(5_000);
      assert.equal((await a.runDue()) + (await b.runDue()), 1);
      assert.equal(runs, 2);
    });

    test('a recurring job that exhausts its attempts moves on to its next recurrence instead of stopping', async () => {
      const start = Date.UTC(2026, 2, 4);
      const clock = fakeClock(start);
      const worker = createWorker({
        database,
        clock,
        log: memoryLog(),
        tasks: {
          poll: async () => {
            throw new Error('gateway unavailable');
          },
        },
      });
      await registerRecurring(database.db, [{ task: 'poll', everySeconds: 60 }], clock);
      await database.db
        .update(jobs)
        .set({ maxAttempts: 1 })
        .where(eq(jobs.key, recurringKey('poll')));
      assert.equal(await worker.runDue(), 1);
      const [row] = await recurringRows(database, 'poll');
      assert.equal(row?.status, 'pending');
      assert.equal(row?.attempts, 0);
      assert.equal(row?.runAt.getTime(), start + 60_000);
      assert.equal(row?.lastError, 'Error: gateway unavailable');
      assert.equal(
        await scalar(database.db, sql`select count(*)::int as n from jobs where task = 'poll' and status = 'failed'`),
        0,
      );
    });
  });
}
