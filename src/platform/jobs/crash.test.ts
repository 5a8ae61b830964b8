// "A crashed node's work is picked up again" (ARCHITECTURE.md), proven with a real process and a
// real SIGKILL, on PostgreSQL and on a PGlite directory (a single node restarting after a crash).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { openDatabase, rows, type Database, type DatabaseLocation, type Engine } from '../db/database.ts';
import { databaseUrl, freshPostgresDatabaseName, testEngines } from '../db/testing.ts';
import { createWorker, enqueue } from './jobs.ts';
import { createRunTables, fixtureTasks, jobById, memoryLog, platformSpec, scalar } from './fixtures/support.ts';
import { killWorkers, spawnWorker } from './fixtures/spawn-worker.ts';

after(killWorkers);

/** A fresh platform database that child processes can open too: a PostgreSQL URL or a PGlite directory. */
async function sharedLocation(engine: Engine): Promise<{ location: DatabaseLocation; cleanup(): void }> {
  if (engine === 'postgres') {
    return {
      location: { engine: 'postgres', url: databaseUrl(await freshPostgresDatabaseName(platformSpec)) },
      cleanup: () => undefined,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'cs-jobs-crash-'));
  return {
    location: { engine: 'pglite', dataDir: join(dir, 'db') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

for (const engine of testEngines()) {
  describe(`crash recovery (${engine})`, () => {
    test('CRASH (done when): a worker process killed with SIGKILL mid-job has its job run again after the lease expires, and the effect is written exactly once', async () => {
      const LEASE_SECONDS = 1;
      const { location, cleanup } = await sharedLocation(engine);
      let database: Database | undefined;
      try {
        // Set up the queue, then let go of the database (a PGlite directory has one owner at a time).
        database = await openDatabase(platformSpec, location);
        await createRunTables(database.db);
        const jobId = await enqueue(database.db, { task: 'effect', payload: { invoice: 'inv_1' } });
        assert.ok(jobId);
        if (engine === 'pglite') {
          await database.close();
          database = undefined;
        }

        // 1. A worker process takes the job, records that it started, then hangs (its heartbeat keeps
        //    the lease alive while the process lives). Kill it without warning mid-job.
        const doomed = spawnWorker({
          location,
          workerId: 'doomed',
          concurrency: 1,
          pollIntervalMs: 20,
          leaseSeconds: LEASE_SECONDS,
          hang: true,
        });
        await doomed.waitFor((e) => e.event === 'ready');
        doomed.send('start');
        await doomed.waitFor((e) => e.event === 'started' && e.jobId === jobId);
        doomed.process.kill('SIGKILL');
        assert.equal(await doomed.exited, 'SIGKILL');

        // 2. The database shows the job still held by the dead worker, with no effect written.
        database ??= await openDatabase(platformSpec, location);
        const held = await jobById(database.db, jobId);
        assert.equal(held.status, 'running');
        assert.equal(held.lockedBy, 'doomed');
        assert.equal(held.attempts, 1);
        assert.ok(held.lockedUntil);
        assert.equal(
          await scalar(database.db, sql`select count(*)::int as n from job_runs where job_id = ${jobId}`),
          1,
        );
        assert.equal(await scalar(database.db, sql`select count(*)::int as n from job_effects`), 0);

        // 3. A new worker picks the job up once the dead worker's lease has expired, and completes it.
        const rescuer = createWorker({
          database,
          workerId: 'rescuer',
          pollIntervalMs: 20,
          leaseSeconds: LEASE_SECONDS,
          log: memoryLog(),
          tasks: fixtureTasks(database, { workerId: 'rescuer' }),
        });
        await rescuer.start();
        const deadline = Date.now() + 15_000;
        while ((await jobById(database.db, jobId)).status !== 'succeeded') {
          assert.ok(Date.now() < deadline, 'the job was not picked up again within 15 s');
          await sleep(25);
        }
        await rescuer.stop();

        const runs = await rows<{ worker_id: string; attempt: number; at: Date | string }>(
          database.db,
          sql`select worker_id, attempt, at from job_runs where job_id = ${jobId} order by at`,
        );
        assert.deepEqual(
          runs.map((r) => [r.worker_id, r.attempt]),
          [
            ['doomed', 1],
            ['rescuer', 2],
          ],
        );
        assert.ok(
          new Date(runs[1]!.at).getTime() >= held.lockedUntil.getTime(),
          'picked up only after the lease expired',
        );
        const effects = await rows<{ job_id: string; worker_id: string }>(
          database.db,
          sql`select job_id, worker_id from job_effects`,
        );
        assert.deepEqual(effects, [{ job_id: jobId, worker_id: 'rescuer' }], 'the effect was written exactly once');
        const done = await jobById(database.db, jobId);
        assert.equal(done.status, 'succeeded');
        assert.equal(done.attempts, 2);
      } finally {
        await database?.close();
        cleanup();
      }
    });
  });
}
