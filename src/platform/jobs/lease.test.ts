import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fakeClock, systemClock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { testEngines } from '../db/testing.ts';
import { claimJobs, completeJob, createWorker, enqueue, extendLease, failJob } from './jobs.ts';
import { jobById, memoryLog, twoNodes } from './fixtures/support.ts';
import { jobs } from './jobs.schema.ts';
import { eq } from 'drizzle-orm';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

for (const engine of testEngines()) {
  describe(`leases (${engine})`, () => {
    let nodes: Awaited<ReturnType<typeof twoNodes>>;
    let a: Database;
    let b: Database;
    before(async () => {
      nodes = await twoNodes(engine);
      ({ a, b } = nodes);
    });
    after(async () => {
      await nodes.close();
    });
    beforeEach(async () => {
      await a.db.delete(jobs);
    });

    test('a running job is not claimed by another worker until its lease expires, then it is', async () => {
      const clock = fakeClock(Date.UTC(2026, 3, 1));
      const id = await enqueue(a.db, { task: 't' }, clock);
      const [held] = await claimJobs(a.db, { workerId: 'A', limit: 5, leaseSeconds: 60 }, clock);
      assert.equal(held?.id, id);
      assert.equal(held?.attempts, 1);
      assert.equal(held?.lockedUntil?.getTime(), clock.now().getTime() + 60_000);

      clock.advance(60_000);
      assert.deepEqual(
        await claimJobs(b.db, { workerId: 'B', limit: 5, leaseSeconds: 60 }, clock),
        [],
        'lease still valid at its last instant',
      );
      clock.advance(1);
      const [taken] = await claimJobs(b.db, { workerId: 'B', limit: 5, leaseSeconds: 60 }, clock);
      assert.equal(taken?.id, id);
      assert.equal(taken?.lockedBy, 'B');
      assert.equal(taken?.attempts, 2);
    });

    test("the stale worker's completion, failure and heartbeat are ignored after its job was reclaimed", async () => {
      const clock = fakeClock(Date.UTC(2026, 3, 2));
      const id = await enqueue(a.db, { task: 't' }, clock);
      assert.ok(id);
      const [stale] = await claimJobs(a.db, { workerId: 'A', limit: 1, leaseSeconds: 60 }, clock);
      clock.advance(61_000);
      const [fresh] = await claimJobs(b.db, { workerId: 'B', limit: 1, leaseSeconds: 60 }, clock);
      assert.ok(stale && fresh);

      assert.equal(await completeJob(a.db, stale, clock), false);
      assert.equal(await failJob(a.db, stale, new Error('late'), {}, clock), null);
      assert.equal(await extendLease(a.db, stale, 60, clock), false);
      let job = await jobById(a.db, id);
      assert.equal(job.status, 'running');
      assert.equal(job.lockedBy, 'B');
      assert.equal(job.lastError, null);

      assert.equal(await completeJob(b.db, fresh, clock), true);
      job = await jobById(a.db, id);
      assert.equal(job.status, 'succeeded');
      assert.equal(await completeJob(a.db, stale, clock), false, 'a settled job cannot be settled again');
    });

    test('a worker that re-claims its own expired job cannot settle it with the older claim', async () => {
      const clock = fakeClock(Date.UTC(2026, 3, 3));
      await enqueue(a.db, { task: 't' }, clock);
      const [first] = await claimJobs(a.db, { workerId: 'A', limit: 1, leaseSeconds: 60 }, clock);
      clock.advance(61_000);
      const [second] = await claimJobs(a.db, { workerId: 'A', limit: 1, leaseSeconds: 60 }, clock);
      assert.ok(first && second);
      assert.equal(await completeJob(a.db, first, clock), false);
      assert.equal(await completeJob(a.db, second, clock), true);
    });

    test('workers: the job of a stalled worker is taken over; its late success does not overwrite the new outcome', async () => {
      const clock = fakeClock(Date.UTC(2026, 3, 4));
      const release = deferred();
      const started = deferred();
      const logA = memoryLog();
      const stalled = createWorker({
        database: a,
        clock,
        workerId: 'stalled',
        leaseSeconds: 60,
        log: logA,
        tasks: {
          deliver: async () => {
            started.resolve();
            await release.promise;
          },
        },
      });
      const other = createWorker({
        database: b,
        clock,
        workerId: 'other',
        leaseSeconds: 60,
        retry: { baseMs: 1_000, capMs: 1_000 },
        log: memoryLog(),
        tasks: {
          deliver: async () => {
            throw new Error('receiver answered 500');
          },
        },
      });
      const id = await enqueue(a.db, { task: 'deliver' }, clock);
      assert.ok(id);
      const stalledRun = stalled.runDue();
      await started.promise;
      assert.equal(await other.runDue(), 0, 'held while the lease is valid');
      clock.advance(60_001);
      assert.equal(await other.runDue(), 1, 'taken over after the lease expired');
      let job = await jobById(a.db, id);
      assert.equal(job.status, 'pending');
      assert.equal(job.attempts, 2);

      release.resolve();
      assert.equal(await stalledRun, 1);
      job = await jobById(a.db, id);
      assert.equal(job.status, 'pending', "the stalled worker's success was not recorded");
      assert.equal(job.lastError, 'Error: receiver answered 500');
      assert.ok(logA.entries.some((e) => e.level === 'warn' && /lease lost before completion/.test(e.msg)));
    });

    test('a long job keeps its lease by heartbeat and is not taken over while it runs', async () => {
      // Fake time for the lease, so the test does not race the machine's load: the heartbeat fires
      // on real time (every lease/3), and each beat extends the lease from the fake now.
      const clock = fakeClock(Date.UTC(2026, 3, 5));
      const release = deferred();
      let runs = 0;
      const long = createWorker({
        database: a,
        clock,
        workerId: 'long',
        leaseSeconds: 0.3,
        log: memoryLog(),
        tasks: {
          slow: async (_payload, ctx) => {
            runs++;
            await release.promise;
            assert.equal(ctx.signal.aborted, false);
          },
        },
      });
      const watcher = createWorker({
        database: b,
        clock,
        workerId: 'watcher',
        leaseSeconds: 0.3,
        log: memoryLog(),
        tasks: { slow: async () => void runs++ },
      });
      const id = await enqueue(a.db, { task: 'slow' }, clock);
      assert.ok(id);
      const running = long.runDue();
      await until(async () => (await jobById(a.db, id)).status === 'running');

      // Five lease periods pass in steps of 2/3 of a lease; after each step the heartbeat has moved
      // the lease forward, so the watcher finds nothing to take.
      for (let step = 0; step < 8; step++) {
        clock.advance(200);
        const due = clock.now().getTime() + 300;
        await until(async () => (await jobById(a.db, id)).lockedUntil?.getTime() === due);
        assert.equal(await watcher.runDue(), 0, `taken over at step ${step}`);
      }
      release.resolve();
      assert.equal(await running, 1);
      const job = await jobById(a.db, id);
      assert.equal(job.status, 'succeeded');
      assert.equal(job.attempts, 1);
      assert.equal(runs, 1, 'ran once although its run outlasted five lease periods');
    });

    test("a running handler's signal is aborted when its worker finds the lease taken", async () => {
      let aborted = false;
      const worker = createWorker({
        database: a,
        workerId: 'victim',
        leaseSeconds: 1,
        pollIntervalMs: 20,
        log: memoryLog(),
        tasks: {
          slow: async (_payload, ctx) => {
            await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
            aborted = true;
          },
        },
      });
      const id = await enqueue(a.db, { task: 'slow' }, systemClock);
      assert.ok(id);
      await worker.start();
      await until(async () => (await jobById(a.db, id)).status === 'running');
      await b.db
        .update(jobs)
        .set({ lockedBy: 'thief', lockedUntil: new Date(Date.now() + 3_600_000) })
        .where(eq(jobs.id, id));
      await until(() => aborted);
      await worker.stop();
      const job = await jobById(a.db, id);
      assert.equal(job.status, 'running');
      assert.equal(job.lockedBy, 'thief', "the victim's completion did not overwrite the thief's claim");
    });
  });
}
