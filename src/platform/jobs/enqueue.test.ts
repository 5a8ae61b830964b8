import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { fakeClock } from '../clock.ts';
import { rows, type Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { enqueue, enqueueAlong } from './jobs.ts';
import { jobById, platformSpec, scalar } from './fixtures/support.ts';

for (const engine of testEngines()) {
  describe(`enqueue (${engine})`, () => {
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    before(async () => {
      database = await freshDatabase(platformSpec, engine);
      await database.db.execute(sql`create table along_rows (id text primary key)`);
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

    // enqueueAlong: a write and its job in one statement.
    const writeRow = (id: string) =>
      sql`insert into along_rows (id) values (${id}) on conflict do nothing returning id`;
    const count = (where: ReturnType<typeof sql>) => scalar(database.db, sql`select count(*)::int as n from ${where}`);

    test('enqueueAlong: the row and its job land together, the job pending with its payload, key and runAt', async () => {
      const runAt = new Date(clock.now().getTime() + 5_000);
      const r = await database.transaction((tx) =>
        enqueueAlong(tx, writeRow('a1'), { task: 'send', payload: { row: 'a1' }, key: 'along:a1', runAt }, clock),
      );
      assert.deepEqual(r, { wrote: true, queued: true });
      assert.equal(await count(sql`along_rows where id = 'a1'`), 1);
      const [job] = await rows<{ id: string }>(database.db, sql`select id from jobs where key = 'along:a1'`);
      const row = await jobById(database.db, job!.id);
      assert.equal(row.status, 'pending');
      assert.equal(row.task, 'send');
      assert.deepEqual(row.payload, { row: 'a1' });
      assert.equal(row.runAt.getTime(), runAt.getTime());
      assert.equal(row.maxAttempts, 10);
    });

    test('enqueueAlong: a write that returns no row adds no job', async () => {
      await enqueueAlong(database.db, writeRow('a2'), { task: 'send', key: 'along:a2' }, clock);
      const again = await enqueueAlong(database.db, writeRow('a2'), { task: 'send', key: 'along:a2b' }, clock);
      assert.deepEqual(again, { wrote: false, queued: false });
      assert.equal(await count(sql`jobs where key = 'along:a2b'`), 0);
    });

    test('enqueueAlong: a job key already taken keeps the first job, the row is still written', async () => {
      const first = await enqueue(database.db, { task: 'send', key: 'along:a3', payload: { v: 1 } }, clock);
      const r = await enqueueAlong(
        database.db,
        writeRow('a3'),
        { task: 'send', key: 'along:a3', payload: { v: 2 } },
        clock,
      );
      assert.deepEqual(r, { wrote: true, queued: false });
      assert.deepEqual((await jobById(database.db, first!)).payload, { v: 1 });
      assert.equal(await count(sql`along_rows where id = 'a3'`), 1);
    });

    test('enqueueAlong: in a transaction that rolls back, neither the row nor the job exists', async () => {
      await assert.rejects(
        database.transaction(async (tx) => {
          await enqueueAlong(tx, writeRow('a4'), { task: 'send', key: 'along:a4' }, clock);
          throw new Error('the state change failed');
        }),
        /the state change failed/,
      );
      assert.equal(await count(sql`along_rows where id = 'a4'`), 0);
      assert.equal(await count(sql`jobs where key = 'along:a4'`), 0);
    });

    test('invalid input is refused before anything is written', async () => {
      await assert.rejects(enqueue(database.db, { task: '' }, clock), RangeError);
      await assert.rejects(enqueue(database.db, { task: 'x', maxAttempts: 0 }, clock), RangeError);
      await assert.rejects(enqueueAlong(database.db, writeRow('a5'), { task: '' }, clock), RangeError);
      assert.equal(await scalar(database.db, sql`select count(*)::int as n from jobs where task in ('', 'x')`), 0);
      assert.equal(await count(sql`along_rows where id = 'a5'`), 0);
    });
  });
}
