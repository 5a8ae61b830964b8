import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { fakeClock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { claimJobs, createWorker, enqueue, recurringKey, registerRecurring } from './jobs.ts';
import { memoryLog, platformSpec, scalar } from './fixtures/support.ts';
import { jobs } from './jobs.schema.ts';
import { pruneFinishedJobs } from './prune.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1, 12);

for (const engine of testEngines()) {
  describe(`retention of finished jobs (${engine})`, () => {
    let database: Database;
    before(async () => {
      database = await freshDatabase(platformSpec, engine);
    });
    after(async () => {
      await database.close();
    });
    beforeEach(async () => {
      await database.db.delete(jobs);
    });

    const keys = async () =>
      (await database.db.select({ key: jobs.key, status: jobs.status }).from(jobs).orderBy(jobs.key)).map(
        (j) => `${j.key}:${j.status}`,
      );

    test('deletes only succeeded one-shot jobs older than the retention; pending, running, failed, recurring and recent ones stay', async () => {
      const clock = fakeClock(T0);
      const worker = createWorker({
        database,
        clock,
        log: memoryLog(),
        tasks: {
          ok: async () => undefined,
          boom: async () => {
            throw new Error('boom');
          },
          sweep: async () => undefined,
        },
      });
      await enqueue(database.db, { task: 'ok', key: 'old-succeeded' }, clock);
      await enqueue(database.db, { task: 'boom', key: 'old-failed', maxAttempts: 1 }, clock);
      await registerRecurring(database.db, [{ task: 'sweep', everySeconds: 3600 }], clock);
      assert.equal(await worker.runDue(), 3);
      await enqueue(database.db, { task: 'ok', key: 'old-running' }, clock);
      assert.equal(
        (await claimJobs(database.db, { workerId: 'w', limit: 1, leaseSeconds: 60 * 86_400 }, clock)).length,
        1,
      );
      await enqueue(database.db, { task: 'ok', key: 'old-pending', runAt: new Date(T0 + 30 * DAY) }, clock);

      clock.set(T0 + 7 * DAY - 60_000);
      await enqueue(database.db, { task: 'ok', key: 'recent-succeeded' }, clock);
      assert.equal(await worker.runDue(), 2, 'the recent job and the recurring one');
      assert.deepEqual(await keys(), [
        'old-failed:failed',
        'old-pending:pending',
        'old-running:running',
        'old-succeeded:succeeded',
        'recent-succeeded:succeeded',
        `${recurringKey('sweep')}:pending`,
      ]);

      clock.set(T0 + 7 * DAY + 1);
      assert.equal(await pruneFinishedJobs(database.db, new Date(clock.now().getTime() - 7 * DAY)), 1);
      assert.deepEqual(await keys(), [
        'old-failed:failed',
        'old-pending:pending',
        'old-running:running',
        'recent-succeeded:succeeded',
        `${recurringKey('sweep')}:pending`,
      ]);
      assert.equal(await pruneFinishedJobs(database.db, new Date(clock.now().getTime() - 7 * DAY)), 0, 'idempotent');
    });

    test('deletes a backlog larger than one batch, every row of it, and nothing newer', async () => {
      const old = new Date(T0).toISOString();
      const recent = new Date(T0 + 10 * DAY).toISOString();
      const insert = (from: number, to: number, at: string) =>
        database.db.execute(sql`
          insert into jobs (id, task, payload, status, run_at, attempts, max_attempts, key, created_at, updated_at)
          select 'job_' || g, 'ok', '{}'::jsonb, 'succeeded', ${at}::timestamptz, 1, 10, 'k' || g, ${at}::timestamptz, ${at}::timestamptz
          from generate_series(${from}::int, ${to}::int) g`);
      await insert(1, 2345, old);
      await insert(2346, 2350, recent);
      const cutoff = new Date(T0 + 7 * DAY);
      assert.equal(await pruneFinishedJobs(database.db, cutoff), 2345, 'three statements of at most 1000 rows');
      assert.equal(await scalar(database.db, sql`select count(*)::int as n from jobs`), 5);
      await insert(1, 20, old);
      assert.equal(await pruneFinishedJobs(database.db, cutoff, 7), 20, 'batches of 7: 7 + 7 + 6');
      assert.equal(await scalar(database.db, sql`select count(*)::int as n from jobs`), 5);
    });

    test('frees the key of a deleted job: the same key enqueues a new job, which it did not before', async () => {
      const clock = fakeClock(T0);
      const worker = createWorker({ database, clock, log: memoryLog(), tasks: { ok: async () => undefined } });
      const first = await enqueue(database.db, { task: 'ok', key: 'settle:ps_1' }, clock);
      assert.ok(first);
      await worker.runDue();
      clock.advance(8 * DAY);
      assert.equal(await enqueue(database.db, { task: 'ok', key: 'settle:ps_1' }, clock), null, 'kept: deduped');
      assert.equal(await pruneFinishedJobs(database.db, new Date(clock.now().getTime() - 7 * DAY)), 1);
      const second = await enqueue(database.db, { task: 'ok', key: 'settle:ps_1' }, clock);
      assert.ok(second && second !== first, 'pruned: a new job');
    });
  });
}
