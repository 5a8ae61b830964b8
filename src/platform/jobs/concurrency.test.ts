import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { rows } from '../db/database.ts';
import { testEngines } from '../db/testing.ts';
import { createWorker, enqueue } from './jobs.ts';
import { createRunTables, fixtureTasks, memoryLog, scalar, twoNodes } from './fixtures/support.ts';

const JOBS = 200;

for (const engine of testEngines()) {
  describe(`two workers on one database (${engine})`, () => {
    let nodes: Awaited<ReturnType<typeof twoNodes>>;
    before(async () => {
      nodes = await twoNodes(engine);
      await createRunTables(nodes.a.db);
    });
    after(async () => {
      await nodes.close();
    });

    test(`two workers running concurrently over ${JOBS} jobs run each job exactly once`, async () => {
      const { a, b } = nodes;
      await a.transaction(async (tx) => {
        for (let i = 0; i < JOBS; i++) await enqueue(tx, { task: 'record', payload: { i } });
      });
      const logs = [memoryLog(), memoryLog()];
      const workers = [
        createWorker({
          database: a,
          workerId: 'w1',
          concurrency: 4,
          pollIntervalMs: 20,
          log: logs[0],
          tasks: fixtureTasks(a, { workerId: 'w1', workMs: 2 }),
        }),
        createWorker({
          database: b,
          workerId: 'w2',
          concurrency: 4,
          pollIntervalMs: 20,
          log: logs[1],
          tasks: fixtureTasks(b, { workerId: 'w2', workMs: 2 }),
        }),
      ];
      await Promise.all(workers.map((w) => w.start()));
      const deadline = Date.now() + 30_000;
      while ((await scalar(a.db, sql`select count(*)::int as n from jobs where status = 'succeeded'`)) < JOBS) {
        assert.ok(Date.now() < deadline, 'jobs did not all succeed within 30 s');
        await sleep(25);
      }
      await Promise.all(workers.map((w) => w.stop()));

      assert.equal(await scalar(a.db, sql`select count(*)::int as n from job_runs`), JOBS, 'one run per job');
      assert.equal(await scalar(a.db, sql`select count(distinct job_id)::int as n from job_runs`), JOBS);
      assert.equal(
        await scalar(a.db, sql`select count(*)::int as n from jobs where attempts <> 1`),
        0,
        'no job was claimed twice',
      );
      const perWorker = await rows<{ worker_id: string; n: number }>(
        a.db,
        sql`select worker_id, count(*)::int as n from job_runs group by worker_id`,
      );
      assert.equal(perWorker.length, 2, `both workers took jobs: ${JSON.stringify(perWorker)}`);
      for (const log of logs)
        assert.deepEqual(
          log.entries.filter((e) => e.level !== 'info'),
          [],
        );
    });
  });
}
