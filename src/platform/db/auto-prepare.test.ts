import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { autoPrepare, PREPARED_PER_CONNECTION } from './auto-prepare.ts';
import { openDatabase, rows, type Database } from './database.ts';
import { databaseUrl, freshPostgresDatabaseName } from './testing.ts';

const spec = { name: 'platform', migrationsFolder: fileURLToPath(new URL('./migrations', import.meta.url)) };

/** The statements prepared on the session that runs this query (the pool has one connection). */
async function prepared(database: Database): Promise<string[]> {
  const r = await rows<{ statement: string }>(
    database.db,
    sql`select statement from pg_prepared_statements where from_sql = false order by prepare_time`,
  );
  return r.map((x) => x.statement);
}

describe('statements prepared once per connection (PostgreSQL)', () => {
  let database: Database;
  before(async () => {
    // One connection, so that pg_prepared_statements shows the statements of the queries before it.
    const name = await freshPostgresDatabaseName(spec);
    database = await openDatabase(spec, { engine: 'postgres', url: databaseUrl(name), poolSize: 1 });
  });
  after(() => database.close());

  it('prepares a parameterised statement once and reuses it with other values', async () => {
    const insert = (room: string) =>
      database.db.execute(sql`insert into realtime_messages (room, payload, created_at) values (${room}, '{}', now())`);
    await insert('a');
    await insert('b');
    await insert('c');
    const mine = (await prepared(database)).filter((s) => s.startsWith('insert into realtime_messages'));
    assert.equal(mine.length, 1, 'one prepared statement for three inserts');
    const r = await rows<{ room: string }>(database.db, sql`select room from realtime_messages order by id`);
    assert.deepEqual(
      r.map((x) => x.room),
      ['a', 'b', 'c'],
    );
  });

  it('leaves transaction control unprepared, and a rolled-back transaction keeps working statements', async () => {
    await assert.rejects(
      database.transaction(async (tx) => {
        await tx.execute(
          sql`insert into realtime_messages (room, payload, created_at) values (${'gone'}, '{}', now())`,
        );
        throw new Error('half-way');
      }),
      /half-way/,
    );
    await database.transaction(async (tx) => {
      await tx.execute(sql`insert into realtime_messages (room, payload, created_at) values (${'kept'}, '{}', now())`);
    });
    const statements = await prepared(database);
    assert.equal(
      statements.some((s) => /^(begin|commit|rollback)/i.test(s)),
      false,
    );
    const r = await rows<{ room: string }>(
      database.db,
      sql`select room from realtime_messages where room in ('gone', 'kept')`,
    );
    assert.deepEqual(
      r.map((x) => x.room),
      ['kept'],
    );
  });

  it('recovers from a statement PostgreSQL refuses to parse, and runs it once the table exists', async () => {
    const query = () =>
      rows<{ n: number }>(database.db, sql`select count(*)::int as n from later_table where id > ${0}`);
    await assert.rejects(query(), /later_table/);
    await database.db.execute(sql`create table later_table (id int)`);
    assert.equal((await query())[0]?.n, 0);
  });

  it(`keeps at most ${PREPARED_PER_CONNECTION} statements per connection and runs the rest unnamed`, async () => {
    const client = new pg.Client({ connectionString: (database.raw as pg.Pool).options.connectionString });
    await client.connect();
    try {
      autoPrepare(client as unknown as pg.PoolClient);
      for (let i = 0; i < PREPARED_PER_CONNECTION + 20; i++) {
        const r = await client.query({ text: `select $1::int + ${i} as n`, values: [1] });
        assert.equal(r.rows[0].n, 1 + i);
      }
      const n = await client.query({ text: 'select count(*)::int as n from pg_prepared_statements', values: [] });
      assert.equal(n.rows[0].n, PREPARED_PER_CONNECTION);
    } finally {
      await client.end();
    }
  });
});
