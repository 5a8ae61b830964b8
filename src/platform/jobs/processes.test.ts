// Workers in separate operating-system processes on one PostgreSQL: what "any number of nodes can
// run it" means in ARCHITECTURE.md, proven with real processes contending for the same rows.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { openDatabase, rows } from '../db/database.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../db/testing.ts';
import { enqueue } from './jobs.ts';
import { createRunTables, platformSpec, scalar } from './fixtures/support.ts';
import { killWorkers, spawnWorker } from './fixtures/spawn-worker.ts';

after(killWorkers);

describe('two worker processes on one PostgreSQL (postgres only: a PGlite directory belongs to one process)', () => {
  test('two processes claiming concurrently over 300 jobs run each job exactly once', async () => {
    const JOBS = 300;
    const url = databaseUrl(await freshPostgresDatabaseName(platformSpec));
    const database = await openDatabase(platformSpec, { engine: 'postgres', url, poolSize: 2 });
    try {
      await createRunTables(database.db);
      await database.transaction(async (tx) => {
        for (let i = 0; i < JOBS; i++) await enqueue(tx, { task: 'record', payload: { i } });
      });
      const config = {
        location: { engine: 'postgres', url },
        concurrency: 4,
        pollIntervalMs: 20,
        leaseSeconds: 30,
        workMs: 3,
      } as const;
      const workers = [spawnWorker({ ...config, workerId: 'proc-1' }), spawnWorker({ ...config, workerId: 'proc-2' })];
      await Promise.all(workers.map((w) => w.waitFor((e) => e.event === 'ready')));
      for (const w of workers) w.send('start');

      const deadline = Date.now() + 30_000;
      while ((await scalar(database.db, sql`select count(*)::int as n from jobs where status = 'succeeded'`)) < JOBS) {
        assert.ok(Date.now() < deadline, 'jobs did not all succeed within 30 s');
        await sleep(50);
      }
      for (const w of workers) w.send('stop');
      const stopped = await Promise.all(workers.map((w) => w.waitFor((e) => e.event === 'stopped')));
      assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0]);
      assert.deepEqual(
        stopped.map((s) => s.errors),
        [[], []],
        'no worker logged an error',
      );

      assert.equal(await scalar(database.db, sql`select count(*)::int as n from job_runs`), JOBS, 'one run per job');
      assert.equal(await scalar(database.db, sql`select count(distinct job_id)::int as n from job_runs`), JOBS);
      assert.equal(await scalar(database.db, sql`select count(*)::int as n from jobs where attempts <> 1`), 0);
      const perProcess = await rows<{ pid: number; n: number }>(
        database.db,
        sql`select pid, count(*)::int as n from job_runs group by pid`,
      );
      assert.equal(perProcess.length, 2, `both processes ran jobs: ${JSON.stringify(perProcess)}`);
    } finally {
      await database.close();
    }
  });
});
