// The database platform: one party's PostgreSQL-dialect database, embedded (PGlite) or served
// (PostgreSQL through pg), behind one shape so that storage code and tests run on both unchanged.
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { autoPrepare } from './auto-prepare.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyBlankCluster } from './pglite-template.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { getTableColumns, sql, type SQL, type Table } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';

export type Engine = 'pglite' | 'postgres';

/** A drizzle database over either engine. */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;
/** A drizzle transaction over either engine. */
export type Tx = PgTransaction<
  PgQueryResultHKT,
  Record<string, unknown>,
  ExtractTablesWithRelations<Record<string, unknown>>
>;
/** Anything that runs queries: the database itself or an open transaction. */
export type Executor = Db | Tx;

/** Where a party keeps its schema history. */
export interface DatabaseSpec {
  /** The party's name; also the default directory under the data dir. */
  readonly name: string;
  /** Folder of drizzle-kit migrations (with meta/_journal.json). */
  readonly migrationsFolder: string;
}

/** How to reach one party's database: a PostgreSQL URL wins over the PGlite directory. */
export type DatabaseLocation =
  | { readonly engine: 'postgres'; readonly url: string; readonly poolSize?: number }
  | { readonly engine: 'pglite'; readonly dataDir: string | undefined }; // undefined: in memory

export type Unlisten = () => Promise<void>;

/** One party's open database. */
export interface Database {
  readonly engine: Engine;
  readonly spec: DatabaseSpec;
  readonly db: Db;
  /** Runs fn in one explicit transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Subscribes to a NOTIFY channel (a dedicated connection on PostgreSQL). */
  listen(channel: string, onPayload: (payload: string) => void): Promise<Unlisten>;
  /** Reachable and every migration of the spec applied. */
  ready(): Promise<boolean>;
  /** Closes every connection; pending work has been awaited by the callers. */
  close(): Promise<void>;
  /** The raw client, for tests and tools that need the engine itself. */
  readonly raw: PGlite | pg.Pool;
}

// Work a transaction does as its very last step, just before the commit: the shop's audit chain
// appends its entries there, because the chain's global lock is then held for two statements and
// the commit instead of for the whole transaction (it serialised every audited transaction).
const commitHooks = new WeakMap<object, Array<() => Promise<void>>>();

/**
 * Registers `hook` to run inside `tx` after the transaction's work and before its commit (a failing
 * hook rolls everything back). Returns false when `tx` is not a top-level transaction of an
 * openDatabase() database (e.g. a savepoint): the caller then does the work at once.
 */
export function beforeCommit(tx: Executor, hook: () => Promise<void>): boolean {
  const hooks = commitHooks.get(tx);
  if (!hooks) return false;
  hooks.push(hook);
  return true;
}

// Notices a transaction gives once it has committed (the audit sealer's "entries committed here").
const committedHooks = new WeakMap<object, Array<() => void>>();

/**
 * Registers `notice` to be called once `tx` has committed (never if it rolls back). For notices only:
 * it runs outside the transaction and what it throws is ignored. Returns false when `tx` is not a
 * top-level transaction of an openDatabase() database: the caller then gives the notice at once.
 */
export function afterCommit(tx: Executor, notice: () => void): boolean {
  const notices = committedHooks.get(tx);
  if (!notices) return false;
  notices.push(notice);
  return true;
}

// Every top-level transaction on `db` (Database.transaction and db.transaction alike) runs its hooks.
function withCommitHooks(db: Db): Db {
  const begin = db.transaction.bind(db);
  const transaction: Db['transaction'] = async (fn, config) => {
    const notices: Array<() => void> = [];
    const result = await begin(async (tx) => {
      const hooks: Array<() => Promise<void>> = [];
      commitHooks.set(tx, hooks);
      committedHooks.set(tx, notices);
      const result = await fn(tx);
      // A hook may register another one; each runs once, in order.
      for (let i = 0; i < hooks.length; i++) await hooks[i]!();
      commitHooks.delete(tx);
      committedHooks.delete(tx);
      return result;
    }, config);
    for (const notice of notices) {
      try {
        notice();
      } catch {
        // A notice is advisory: the transaction has committed whatever a listener does.
      }
    }
    return result;
  };
  return Object.assign(db, { transaction });
}

/**
 * `table`'s columns as read from `source` (a CTE or subquery that selects them all), keyed as the
 * table's: a select's nested object whose rows come out typed as the table's.
 */
export function tableFieldsOf<T extends Table>(source: object, table: T): T['_']['columns'] {
  const fields = source as Record<string, unknown>;
  return Object.fromEntries(Object.keys(getTableColumns(table)).map((k) => [k, fields[k]])) as T['_']['columns'];
}

/** Rows of a raw SQL query on any executor. */
export async function rows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

// Keeps a stable advisory-lock key per party so that concurrent starts migrate one at a time.
function lockKey(name: string): number {
  let h = 0;
  for (const ch of `countersign:migrate:${name}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

function journalCount(spec: DatabaseSpec): number {
  const journal = JSON.parse(readFileSync(join(spec.migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

async function appliedCount(db: Db): Promise<number> {
  const exists = await rows<{ t: string | null }>(
    db,
    sql`select to_regclass('drizzle.__drizzle_migrations')::text as t`,
  );
  if (!exists[0]?.t) return 0;
  const r = await rows<{ n: number | string }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return Number(r[0]?.n ?? 0);
}

/** The migrations bundled with this build (its journal) and those applied to the database. */
export async function migrationStatus(database: Database): Promise<{ applied: number; bundled: number }> {
  return { applied: await appliedCount(database.db), bundled: journalCount(database.spec) };
}

/** Opens a party's database and applies its migrations. */
export async function openDatabase(spec: DatabaseSpec, location: DatabaseLocation): Promise<Database> {
  if (location.engine === 'pglite') return openPglite(spec, location.dataDir);
  return openPostgres(spec, location.url, location.poolSize ?? 10);
}

/**
 * Opens a party's database that must already exist, creating and migrating nothing: for tools that
 * only read (a verifier pointed at the wrong place must not leave an empty database behind).
 */
export async function openExistingDatabase(spec: DatabaseSpec, location: DatabaseLocation): Promise<Database> {
  if (location.engine === 'postgres') return postgresDatabase(spec, location.url, location.poolSize ?? 1);
  if (!location.dataDir || !existsSync(join(location.dataDir, 'PG_VERSION')))
    throw new Error(`no database at ${location.dataDir ?? '(memory)'}`);
  return openPglite(spec, location.dataDir, undefined, { migrate: false });
}

// PGlite's cluster keeps initdb's 128 MB of shared buffers, which an embedded service touches as it
// reads: a reopened database sat near 400 MB resident after a little work, 260 MB with 16 MB. Under
// load 8 MB keeps each party 6-11 MB lower again (WebAssembly memory, once touched, is never given
// back). Pages beyond them come from the files through the operating system's cache.
const PGLITE_SHARED_BUFFERS = '8MB';

function pgliteOptions(dataDir: string | undefined) {
  return {
    ...(dataDir ? { dataDir } : {}),
    // The shop's customer search indexes use it; a database that has it must always open with it.
    extensions: { pg_trgm },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  };
}

async function openPglite(
  spec: DatabaseSpec,
  dataDir: string | undefined,
  client?: PGlite,
  options: { migrate: boolean } = { migrate: true },
): Promise<Database> {
  // One process at a time on a data directory (data-dir-lock.ts); an in-memory database is its own.
  const release = dataDir && !client ? lockDataDir(dataDir) : () => undefined;
  let pglite: PGlite | undefined = client;
  try {
    if (dataDir && !existsSync(join(dataDir, 'PG_VERSION'))) await copyBlankCluster(dataDir);
    pglite ??= await PGlite.create(pgliteOptions(dataDir));
    const db = withCommitHooks(drizzlePglite({ client: pglite }) as unknown as Db);
    if (options.migrate) await migratePglite(db as never, { migrationsFolder: spec.migrationsFolder });
    return pgliteDatabase(spec, pglite, db, release);
  } catch (err) {
    if (pglite && !client && !pglite.closed) await pglite.close().catch(() => undefined);
    release();
    throw err;
  }
}

function pgliteDatabase(spec: DatabaseSpec, pglite: PGlite, db: Db, release: () => void): Database {
  const expected = journalCount(spec);
  return {
    engine: 'pglite',
    spec,
    db,
    raw: pglite,
    transaction: (fn) => db.transaction(fn),
    async listen(channel, onPayload) {
      const off = await pglite.listen(channel, onPayload);
      return () => off();
    },
    async ready() {
      try {
        return (await appliedCount(db)) >= expected;
      } catch {
        return false;
      }
    },
    async close() {
      try {
        if (!pglite.closed) await pglite.close();
      } finally {
        release();
      }
    },
  };
}

async function openPostgres(spec: DatabaseSpec, url: string, poolSize: number): Promise<Database> {
  // Migrate on one dedicated connection under an advisory lock: N nodes may start at once.
  const migrator = new pg.Client({ connectionString: url });
  await migrator.connect();
  try {
    await migrator.query('select pg_advisory_lock($1)', [lockKey(spec.name)]);
    await migratePg(drizzlePg({ client: migrator }), { migrationsFolder: spec.migrationsFolder });
  } finally {
    await migrator.query('select pg_advisory_unlock_all()').catch(() => undefined);
    await migrator.end();
  }
  return postgresDatabase(spec, url, poolSize);
}

function postgresDatabase(spec: DatabaseSpec, url: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  pool.on('connect', autoPrepare);
  const db = withCommitHooks(drizzlePg({ client: pool }) as unknown as Db);
  const expected = journalCount(spec);
  const listeners = new Set<pg.Client>();
  return {
    engine: 'postgres',
    spec,
    db,
    raw: pool,
    transaction: (fn) => db.transaction(fn),
    async listen(channel, onPayload) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      client.on('notification', (msg) => {
        if (msg.channel === channel) onPayload(msg.payload ?? '');
      });
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      listeners.add(client);
      return async () => {
        if (!listeners.delete(client)) return;
        await client.end().catch(() => undefined);
      };
    },
    async ready() {
      try {
        return (await appliedCount(db)) >= expected;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([...listeners].map((c) => c.end().catch(() => undefined)));
      listeners.clear();
      await pool.end();
    },
  };
}
