import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { fakeClock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { enqueue } from './jobs.ts';
import { jobById, platformSpec, scalar } from './fixtures/support.ts';

for (const engine of testEngines()) {
  describe(`enqueue (${engine})`, () => {
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    before(async () => {
      database = await freshDatabase(platformSpec, engine);
    });
    after(async () => {
      await database.close();
    });

    test('a job enqueued in a transaction that rolls back does not exist', async () => {
      let id: string | null = null;
      await assert.rejects(
        database.transaction(async (tx) => {
          id = await enqueue(tx, { task: 'deliver', payload: { n: 1 } }, clock);
          throw new Error('the state change failed');
        }),
        /the state change failed/,
      );
      assert.ok(id, 'enqueue returned an id inside the transaction');
      assert.equal(await scalar(database.db, sql`select count(*)::int as n from jobs where id = ${id}`), 0);
    });

    test('a job enqueued in a committed transaction is pending, due at runAt, with its payload', async () => {
      const runAt = new Date(clock.now().getTime() + 30_000);
      const id = await database.transaction((tx) =>
        enqueue(tx, { task: 'deliver', payload: { msg: 'msg_1' }, runAt, maxAttempts: 3 }, clock),
      );
      assert.ok(id);
      assert.match(id, /^job_/);
      const job = await jobById(database.db, id);
      assert.equal(job.status, 'pending');
      assert.equal(job.task, 'deliver');
      assert.deepEqual(job.payload, { msg: 'msg_1' });
      assert.equal(job.runAt.getTime(), runAt.getTime());
      assert.equal(job.attempts, 0);
      assert.equal(job.maxAttempts, 3);
    });

    test('a second enqueue with the same key adds no job and returns null', async () => {
      const first = await enqueue(database.db, { task: 'expire', key: 'expire:inv_1', payload: { v: 1 } }, clock);
      const second = await enqueue(database.db, { task: 'expire', key: 'expire:inv_1', payload: { v: 2 } }, clock);
      assert.ok(first);
      assert.equal(second, null);
      assert.equal(await scalar(database.db, sql`select count(*)::int as n from jobs where key = 'expire:inv_1'`), 1);
      assert.deepEqual((await jobById(database.db, first)).payload, { v: 1 });
    });

    test('the same key enqueued from two concurrent transactions yields exactly one job', async () => {
      const results = await Promise.all(
        [1, 2].map((v) =>
          database.transaction((tx) => enqueue(tx, { task: 'expire', key: 'expire:inv_2', payload: { v } }, clock)),
        ),
      );
      assert.equal(results.filter((r) => r !== null).length, 1);
      assert.equal(await scalar(database.db, sql`select count(*)::int as n from jobs where key = 'expire:inv_2'`), 1);
    });

    test('invalid input is refused before anything is written', async () => {
      await assert.rejects(enqueue(database.db, { task: '' }, clock), RangeError);
      await assert.rejects(enqueue(database.db, { task: 'x', maxAttempts: 0 }, clock), RangeError);
      assert.equal(await scalar(database.db, sql`select count(*)::int as n from jobs where task in ('', 'x')`), 0);
    });
  });
}
