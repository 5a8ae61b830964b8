import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { createWorker, enqueue } from './jobs.ts';
import { jobById, memoryLog, platformSpec, until } from './fixtures/support.ts';
import { jobs } from './jobs.schema.ts';

for (const engine of testEngines()) {
  describe(`worker loop (${engine})`, () => {
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

    test('a worker whose slots were all busy when its poll timer fired still takes the next job', async () => {
      // Regression: a poll that found no free slot used to leave the worker believing a poll was
      // still in progress, so it never claimed again.
      const worker = createWorker({
        database,
        concurrency: 1,
        pollIntervalMs: 10,
        log: memoryLog(),
        tasks: { busy: () => sleep(150) },
      });
      const first = await enqueue(database.db, { task: 'busy' });
      const second = await enqueue(database.db, { task: 'busy' });
      assert.ok(first && second);
      await worker.start();
      try {
        await until(
          'both jobs succeeded',
          async () =>
            (await jobById(database.db, second)).status === 'succeeded' &&
            (await jobById(database.db, first)).status === 'succeeded',
        );
      } finally {
        await worker.stop();
      }
    });

    test('wake() runs a just-enqueued job without waiting for the poll interval', async () => {
      let ran = false;
      const worker = createWorker({
        database,
        pollIntervalMs: 60_000,
        log: memoryLog(),
        tasks: { now: async () => void (ran = true) },
      });
      await worker.start();
      try {
        await sleep(50); // the first poll found nothing; the next is a minute away
        await enqueue(database.db, { task: 'now' });
        worker.wake();
        await until('the job ran', () => ran, 15_000); // the poll is a minute away: only the wake runs it
      } finally {
        await worker.stop();
      }
    });

    test('stop() waits for the running job to settle and claims nothing afterwards', async () => {
      let finished = false;
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const worker = createWorker({
        database,
        pollIntervalMs: 10,
        log: memoryLog(),
        tasks: {
          slow: async () => {
            started();
            await sleep(200);
            finished = true;
          },
        },
      });
      const id = await enqueue(database.db, { task: 'slow' });
      assert.ok(id);
      await worker.start();
      await running; // the handler began: stop() comes while it runs, however slow the machine
      await worker.stop();
      assert.equal(finished, true, 'stop resolved only after the handler finished');
      assert.equal((await jobById(database.db, id)).status, 'succeeded', 'and after its outcome was recorded');
      const later = await enqueue(database.db, { task: 'slow' });
      assert.ok(later);
      await sleep(100);
      assert.equal((await jobById(database.db, later)).status, 'pending', 'a stopped worker claims nothing');
    });

    test('a failing poll is logged and the worker carries on once the database is back', async () => {
      const log = memoryLog();
      let ran = false;
      const worker = createWorker({
        database,
        pollIntervalMs: 20,
        log,
        tasks: { later: async () => void (ran = true) },
      });
      const id = await enqueue(database.db, { task: 'later' });
      assert.ok(id);
      await database.db.execute(sql`alter table jobs rename to jobs_away`);
      try {
        await worker.start();
        await until('a poll error was logged', () =>
          log.entries.some((e) => e.level === 'error' && /poll failed/.test(e.msg)),
        );
      } finally {
        await database.db.execute(sql`alter table jobs_away rename to jobs`);
      }
      await until('the job ran after recovery', () => ran);
      await worker.stop();
      await until('the job succeeded', async () => (await jobById(database.db, id)).status === 'succeeded');
    });
  });
}
