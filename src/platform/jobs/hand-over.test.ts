// A finished job hands its slot over: the completion and the claim of the next due job are one
// statement. It must complete exactly as completeJob does, claim only what is due, never the job it
// completes, return every job it claimed (a claimed job nobody runs would wait for its lease), and
// let a worker run follow-up work at once without waiting for its poll interval.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fakeClock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { completeJobAndClaim } from './complete.ts';
import { claimJobs, createWorker, enqueue } from './jobs.ts';
import { jobById, memoryLog, platformSpec, until } from './fixtures/support.ts';
import { jobs } from './jobs.schema.ts';

for (const engine of testEngines()) {
  describe(`a completion hands its slot over (${engine})`, () => {
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

    test('completes the held job and claims the oldest due one, never itself nor one not yet due', async () => {
      const clock = fakeClock(Date.UTC(2026, 5, 1, 12));
      const db = database.db;
      const held = { workerId: 'w1', limit: 1, leaseSeconds: 30 };
      const first = await enqueue(db, { task: 'a' }, clock);
      const [running] = await claimJobs(db, held, clock);
      assert.equal(running?.id, first);
      clock.advance(1000);
      const older = await enqueue(db, { task: 'b' }, clock);
      clock.advance(1000);
      const newer = await enqueue(db, { task: 'c' }, clock);
      const future = await enqueue(db, { task: 'd', runAt: new Date(clock.now().getTime() + 60_000) }, clock);

      const one = await completeJobAndClaim(db, running!, held, clock);
      assert.equal(one.completed, true);
      assert.deepEqual(
        one.claimed.map((j) => [j.id, j.status, j.lockedBy, j.attempts]),
        [[older, 'running', 'w1', 1]],
      );
      assert.equal(one.claimed[0]!.lockedUntil?.getTime(), clock.now().getTime() + 30_000);
      assert.equal((await jobById(db, first!)).status, 'succeeded');

      const two = await completeJobAndClaim(db, one.claimed[0]!, { ...held, limit: 5 }, clock);
      assert.equal(two.completed, true);
      assert.deepEqual(
        two.claimed.map((j) => j.id),
        [newer],
        'the one still due; not the future one',
      );
      assert.equal((await jobById(db, future!)).status, 'pending');

      const three = await completeJobAndClaim(db, two.claimed[0]!, held, clock);
      assert.deepEqual([three.completed, three.claimed], [true, []], 'nothing due: nothing claimed');
      for (const id of [first, older, newer]) assert.equal((await jobById(db, id!)).status, 'succeeded');
    });

    test('a job completed after its lease ran out, not yet taken over, completes and is not claimed again', async () => {
      const clock = fakeClock(Date.UTC(2026, 5, 1, 12));
      const db = database.db;
      const late = await enqueue(db, { task: 'a' }, clock);
      const [mine] = await claimJobs(db, { workerId: 'w1', limit: 1, leaseSeconds: 5 }, clock);
      clock.advance(1000);
      const waiting = await enqueue(db, { task: 'b' }, clock);
      clock.advance(10_000); // the lease ran out; no other worker polled meanwhile

      const result = await completeJobAndClaim(db, mine!, { workerId: 'w1', limit: 2, leaseSeconds: 60 }, clock);
      assert.equal(result.completed, true);
      assert.deepEqual(
        result.claimed.map((j) => j.id),
        [waiting],
      );
      const after = await jobById(db, late!);
      assert.deepEqual([after.status, after.attempts], ['succeeded', 1]);
    });

    test('a lost lease completes nothing, and the jobs it claimed are still returned to run', async () => {
      const clock = fakeClock(Date.UTC(2026, 5, 1, 12));
      const db = database.db;
      const stale = await enqueue(db, { task: 'a' }, clock);
      const [mine] = await claimJobs(db, { workerId: 'w1', limit: 1, leaseSeconds: 5 }, clock);
      clock.advance(6_000); // the lease expired: another worker takes the job over
      const [theirs] = await claimJobs(db, { workerId: 'w2', limit: 1, leaseSeconds: 60 }, clock);
      assert.equal(theirs?.id, stale);
      const waiting = await enqueue(db, { task: 'b' }, clock);

      const result = await completeJobAndClaim(db, mine!, { workerId: 'w1', limit: 1, leaseSeconds: 60 }, clock);
      assert.equal(result.completed, false);
      const after = await jobById(db, stale!);
      assert.deepEqual(
        [after.status, after.lockedBy, after.attempts],
        ['running', 'w2', 2],
        "the new holder's run stands",
      );
      assert.deepEqual(
        result.claimed.map((j) => [j.id, j.lockedBy]),
        [[waiting, 'w1']],
      );
    });

    test('a worker runs the work a job enqueued at once, into every free slot, with its poll a minute away', async () => {
      const ran: string[] = [];
      const worker = createWorker({
        database,
        concurrency: 3,
        pollIntervalMs: 60_000,
        log: memoryLog(),
        tasks: {
          fan: async () => {
            for (const n of [1, 2, 3]) await enqueue(database.db, { task: 'leaf', payload: { n } });
            ran.push('fan');
          },
          leaf: async (payload) => {
            await sleep(100); // all three hold a slot at once
            ran.push(`leaf ${(payload as { n: number }).n}`);
          },
        },
      });
      await worker.start();
      try {
        await sleep(50); // the first poll found nothing; the next is a minute away
        await enqueue(database.db, { task: 'fan' });
        worker.wake();
        await until('the fan-out and its three leaves ran', () => ran.length === 4, 15_000);
        assert.deepEqual(ran.slice().sort(), ['fan', 'leaf 1', 'leaf 2', 'leaf 3']);
      } finally {
        await worker.stop();
      }
      const rows = await database.db.select().from(jobs);
      assert.deepEqual(
        rows.map((r) => r.status),
        ['succeeded', 'succeeded', 'succeeded', 'succeeded'],
      );
    });
  });
}
