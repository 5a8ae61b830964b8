import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { alias, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { jobs } from '../jobs/jobs.schema.ts';
import { builtOnce, slot, sqlOnce } from './built-once.ts';
import { rows, type Database } from './database.ts';
import { freshDatabase, testEngines } from './testing.ts';

const spec = { name: 'platform', migrationsFolder: fileURLToPath(new URL('./migrations', import.meta.url)) };
const notes = pgTable('notes', {
  id: text('id').primaryKey(),
  at: timestamp('at', { withTimezone: true }),
  body: jsonb('body'),
});
const T0 = new Date('2026-12-01T00:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

for (const engine of testEngines()) {
  describe(`builtOnce on ${engine}`, () => {
    let database: Database;
    let other: Database;
    before(async () => {
      [database, other] = await Promise.all([freshDatabase(spec, engine), freshDatabase(spec, engine)]);
      for (const [d, tasks] of [
        [database, ['a', 'b', 'c']],
        [other, ['x']],
      ] as const)
        await d.db.insert(jobs).values(
          tasks.map((task, i) => ({
            id: `job_${task}`,
            task,
            runAt: at(i * 10),
            key: i === 0 ? null : `after_${tasks[i - 1]}`,
            createdAt: T0,
            updatedAt: T0,
          })),
        );
    });
    after(() => Promise.all([database.close(), other.close()]));

    // A job, the job its key names as run before it (a left join), due after a time given at each run.
    let builds = 0;
    const before_ = alias(jobs, 'before');
    const dueAfter = builtOnce((on) => {
      builds++;
      return on
        .select({ task: jobs.task, runAt: jobs.runAt, before: before_ })
        .from(jobs)
        .leftJoin(before_, eq(jobs.key, sql`'after_' || ${before_.task}`))
        .where(and(gt(jobs.runAt, slot('after', jobs.runAt)), eq(jobs.status, 'pending')))
        .orderBy(asc(jobs.runAt))
        .prepare('due_after');
    });
    const tasks = (r: { task: string }[]) => r.map((x) => x.task);

    it('renders once, and each run binds its own values (a Date through the column)', async () => {
      builds = 0;
      assert.deepEqual(tasks(await dueAfter(database.db).execute({ after: at(-1) })), ['a', 'b', 'c']);
      assert.deepEqual(tasks(await dueAfter(database.db).execute({ after: at(5) })), ['b', 'c']);
      assert.deepEqual(tasks(await dueAfter(database.db).execute({ after: at(25) })), []);
      assert.deepEqual(
        tasks(await dueAfter(other.db).execute({ after: at(-1) })),
        ['x'],
        'another database, same text',
      );
      assert.equal(builds, 1, 'rendered once for this engine');
    });

    it('maps rows as drizzle does: dates as Dates, a left join that found nothing as null', async () => {
      const [a, b] = await dueAfter(database.db).execute({ after: at(-1) });
      assert.ok(a!.runAt instanceof Date && a!.runAt.getTime() === T0.getTime());
      assert.equal(a!.before, null);
      assert.equal(b!.before?.task, 'a');
      assert.ok(b!.before?.createdAt instanceof Date);
    });

    it("runs on the transaction's own connection: its writes seen inside, gone after a rollback", async () => {
      await assert.rejects(
        database.transaction(async (tx) => {
          await tx.update(jobs).set({ status: 'succeeded' }).where(eq(jobs.id, 'job_b'));
          assert.deepEqual(tasks(await dueAfter(tx).execute({ after: at(-1) })), ['a', 'c']);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(tasks(await dueAfter(database.db).execute({ after: at(-1) })), ['a', 'b', 'c']);
    });

    it('renders a statement written as SQL once, and runs it for its rows with each run’s values', async () => {
      let renders = 0;
      const tasksAfter = sqlOnce<{ task: string }>(() => {
        renders++;
        return sql`select task from jobs where run_at > ${sql.placeholder('after')}::timestamptz order by run_at`;
      });
      assert.deepEqual(tasks(await tasksAfter(database.db, { after: at(5).toISOString() })), ['b', 'c']);
      await database.transaction(async (tx) => {
        await tx
          .update(jobs)
          .set({ runAt: at(30) })
          .where(eq(jobs.id, 'job_a'));
        assert.deepEqual(tasks(await tasksAfter(tx, { after: at(15).toISOString() })), ['c', 'a']);
      });
      assert.deepEqual(tasks(await tasksAfter(other.db, { after: at(-1).toISOString() })), ['x']);
      assert.equal(renders, 1);
      await database.db.update(jobs).set({ runAt: T0 }).where(eq(jobs.id, 'job_a'));
    });

    it('writes a null as NULL, as drizzle does, whatever the column encodes (a timestamp, json)', async () => {
      await database.db.execute(sql`create table notes (id text primary key, at timestamptz, body jsonb)`);
      const write = builtOnce((on) =>
        on
          .insert(notes)
          .values({ id: slot('id', notes.id), at: slot('at', notes.at), body: slot('body', notes.body) })
          .returning()
          .prepare('note'),
      );
      assert.deepEqual(await write(database.db).execute({ id: 'n1', at: at(60), body: { n: 1 } }), [
        { id: 'n1', at: at(60), body: { n: 1 } },
      ]);
      assert.deepEqual(await write(database.db).execute({ id: 'n2', at: null, body: null }), [
        { id: 'n2', at: null, body: null },
      ]);
      const stored = await rows<{ id: string; at_null: boolean; body_null: boolean }>(
        database.db,
        sql`select id, at is null as at_null, body is null as body_null from notes order by id`,
      );
      assert.deepEqual(
        stored,
        [
          { id: 'n1', at_null: false, body_null: false },
          { id: 'n2', at_null: true, body_null: true },
        ],
        'SQL NULL, not the JSON value null',
      );
    });

    it('refuses a run without a value for every placeholder', async () => {
      await assert.rejects(dueAfter(database.db).execute({}), /No value for placeholder "after"/);
    });
  });
}
