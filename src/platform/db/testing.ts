// Test helper: a fresh, migrated database per test file on either engine, fast, by cloning a
// migrated template (a copied PGlite cluster directory; PostgreSQL's CREATE DATABASE ... TEMPLATE).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseSpec, type Engine } from './database.ts';
import { copyCluster, ensureTemplate } from './pglite-template.ts';

/** The engines every storage test runs on: both, always (npm test starts a PostgreSQL). */
export function testEngines(): Engine[] {
  return ['pglite', 'postgres'];
}

/** Admin URL of the throwaway PostgreSQL cluster that `npm test` started. */
export function adminUrl(): string {
  const url = process.env.COUNTERSIGN_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'COUNTERSIGN_TEST_PG_URL is not set: run tests through `npm test` (it starts a throwaway PostgreSQL), ' +
        'or point it at a PostgreSQL superuser URL.',
    );
  }
  return url;
}

/** A URL for the named database on the test cluster. */
export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

function migrationsHash(spec: DatabaseSpec): string {
  const h = createHash('sha256');
  for (const f of readdirSync(spec.migrationsFolder)
    .filter((n) => n.endsWith('.sql'))
    .sort()) {
    h.update(f).update(readFileSync(join(spec.migrationsFolder, f)));
  }
  return h.digest('hex').slice(0, 12);
}

async function postgresTemplate(spec: DatabaseSpec): Promise<string> {
  const name = `tpl_${spec.name}_${migrationsHash(spec)}`.toLowerCase();
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    // Parallel test files race to build the same template: one builds, the others wait.
    await admin.query('select pg_advisory_lock(hashtext($1))', [name]);
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      await admin.query(`create database ${pg.escapeIdentifier(name)}`);
      const d = await openDatabase(spec, { engine: 'postgres', url: databaseUrl(name), poolSize: 1 });
      await d.close();
    }
  } finally {
    await admin.query('select pg_advisory_unlock_all()').catch(() => undefined);
    await admin.end();
  }
  return name;
}

/** Creates an empty-but-migrated PostgreSQL database and returns its name. */
export async function freshPostgresDatabaseName(spec: DatabaseSpec): Promise<string> {
  const template = await postgresTemplate(spec);
  const name = `t_${spec.name}_${randomBytes(6).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${pg.escapeIdentifier(name)} template ${pg.escapeIdentifier(template)}`);
        break;
      } catch (err) {
        // "source database is being accessed by other users": another file is cloning right now.
        if (attempt > 50 || (err as { code?: string }).code !== '55006') throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  } finally {
    await admin.end();
  }
  return name;
}

/** A fresh, migrated database for one test file on the given engine. Close it in `after`. */
export async function freshDatabase(spec: DatabaseSpec, engine: Engine): Promise<Database> {
  if (engine === 'pglite') {
    const template = await ensureTemplate(`migrated-${spec.name}-${migrationsHash(spec)}`, async (dir) => {
      await (await openDatabase(spec, { engine: 'pglite', dataDir: dir })).close();
    });
    const tempDir = mkdtempSync(join(tmpdir(), `cs-test-${spec.name}-`));
    const dataDir = join(tempDir, 'db');
    copyCluster(template, dataDir);
    const database = await openDatabase(spec, { engine: 'pglite', dataDir });
    return {
      ...database,
      close: async () => {
        await database.close();
        // The whole temporary directory: removing only `db` left an empty directory behind per test file.
        rmSync(tempDir, { recursive: true, force: true });
      },
    };
  }
  const name = await freshPostgresDatabaseName(spec);
  return openDatabase(spec, { engine: 'postgres', url: databaseUrl(name) });
}
