import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { migrationStatus, openDatabase, rows, type Database } from './database.ts';
import { adminUrl, databaseUrl, freshDatabase, testEngines } from './testing.ts';

const spec = { name: 'platform', migrationsFolder: fileURLToPath(new URL('./migrations', import.meta.url)) };

for (const engine of testEngines()) {
  describe(`database platform on ${engine}`, () => {
    let database: Database;
    before(async () => {
      database = await freshDatabase(spec, engine);
    });
    after(() => database.close());

    it('is ready with every migration applied', async () => {
      assert.equal(await database.ready(), true);
      const t = await rows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from information_schema.tables where table_name in ('jobs', 'realtime_messages')`,
      );
      assert.equal(t[0]?.n, 2);
    });

    it('commits a transaction that resolves and rolls back one that throws, entirely', async () => {
      const insert = (tx: Parameters<Parameters<Database['transaction']>[0]>[0], room: string) =>
        tx.execute(sql`insert into realtime_messages (room, payload, created_at) values (${room}, '{}', now())`);
      await database.transaction(async (tx) => {
        await insert(tx, 'kept');
      });
      await assert.rejects(
        database.transaction(async (tx) => {
          await insert(tx, 'lost-1');
          await insert(tx, 'lost-2');
          throw new Error('half-way');
        }),
        /half-way/,
      );
      const r = await rows<{ room: string }>(database.db, sql`select room from realtime_messages order by id`);
      assert.deepEqual(
        r.map((x) => x.room),
        ['kept'],
      );
    });

    it('delivers NOTIFY to a listener only after commit', async () => {
      const got: string[] = [];
      const off = await database.listen('db_test', (p) => got.push(p));
      try {
        await database.transaction(async (tx) => {
          await tx.execute(sql`select pg_notify('db_test', 'inside')`);
          await new Promise((r) => setTimeout(r, 50));
          assert.deepEqual(got, [], 'a notification escaped before commit');
        });
        for (let i = 0; i < 500 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(got, ['inside']);
      } finally {
        await off();
      }
    });
  });
}

describe('database platform on a data directory (PGlite, the npm start default)', () => {
  it('keeps data across a close and reopen, and migrates only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-db-test-'));
    try {
      const first = await openDatabase(spec, { engine: 'pglite', dataDir: join(dir, 'db') });
      await first.db.execute(
        sql`insert into realtime_messages (room, payload, created_at) values ('durable', '{}', now())`,
      );
      await first.close();
      const second = await openDatabase(spec, { engine: 'pglite', dataDir: join(dir, 'db') });
      const r = await rows<{ room: string }>(second.db, sql`select room from realtime_messages`);
      const m = await rows<{ n: number }>(second.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      const { bundled } = await migrationStatus(second);
      await second.close();
      assert.deepEqual(
        r.map((x) => x.room),
        ['durable'],
      );
      // Each bundled migration recorded once: the reopen applied none again.
      assert.ok(bundled >= 1);
      assert.equal(m[0]?.n, bundled);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('database platform on PostgreSQL with several nodes', () => {
  it('lets three nodes start at once on an empty database and applies each migration once', async () => {
    const name = `t_multi_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const nodes = await Promise.all(
      [1, 2, 3].map(() => openDatabase(spec, { engine: 'postgres', url: databaseUrl(name), poolSize: 2 })),
    );
    try {
      for (const n of nodes) assert.equal(await n.ready(), true);
      const m = await rows<{ n: number }>(
        nodes[0]!.db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      const { bundled } = await migrationStatus(nodes[0]!);
      assert.ok(bundled >= 1);
      assert.equal(m[0]?.n, bundled, 'each migration applied once, whichever node got there first');
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
});
