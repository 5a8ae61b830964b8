// Database snapshots for the proof suites: read every row of the named tables (or of every table of
// the schema) keyed by primary key, and diff two snapshots, so that a case can assert "nothing
// changed but the refusal record it is expected to leave". Works on both engines (plain SQL).
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows, type Database } from '../../src/platform/db/database.ts';

/** table → (primary key → row as canonical JSON) */
export type Snapshot = Map<string, Map<string, string>>;

export interface TableDiff {
  readonly added: Record<string, unknown>[];
  readonly removed: Record<string, unknown>[];
  readonly changed: { before: Record<string, unknown>; after: Record<string, unknown> }[];
}
export type SnapshotDiff = Map<string, TableDiff>;

const canonical = (row: Record<string, unknown>) =>
  JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v));

/** Every table of the public schema (migrations bookkeeping excluded). */
export async function allTables(database: Database): Promise<string[]> {
  const found = await rows<{ name: string }>(
    database.db,
    sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like '%migrations%' order by 1`,
  );
  return found.map((r) => r.name);
}

// Schemas do not change during a run: table lists and primary keys are read once per database.
const tableCache = new WeakMap<Database, Promise<string[]>>();
const keyCache = new WeakMap<Database, Map<string, Promise<string[]>>>();

async function primaryKey(database: Database, table: string): Promise<string[]> {
  let perDb = keyCache.get(database);
  if (!perDb) keyCache.set(database, (perDb = new Map()));
  let cols = perDb.get(table);
  if (!cols) perDb.set(table, (cols = readPrimaryKey(database, table)));
  return cols;
}

async function readPrimaryKey(database: Database, table: string): Promise<string[]> {
  const cols = await rows<{ name: string }>(
    database.db,
    sql`select a.attname as name from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
        where i.indrelid = ${table}::regclass and i.indisprimary order by a.attnum`,
  );
  return cols.map((c) => c.name);
}

/** Reads the rows of `tables` (default: every table), keyed by primary key (the whole row when there is none). */
export async function snapshotTables(database: Database, tables?: readonly string[]): Promise<Snapshot> {
  let names = tables;
  if (!names) {
    let cached = tableCache.get(database);
    if (!cached) tableCache.set(database, (cached = allTables(database)));
    names = await cached;
  }
  const read = await Promise.all(
    names.map(async (table) => {
      const pk = await primaryKey(database, table);
      const all = await rows<Record<string, unknown>>(database.db, sql.raw(`select * from "${table.replace(/"/g, '')}"`));
      const byKey = new Map<string, string>();
      for (const row of all) {
        const key = pk.length > 0 ? pk.map((c) => String(row[c])).join('|') : canonical(row);
        byKey.set(key, canonical(row));
      }
      return [table, byKey] as const;
    }),
  );
  return new Map(read);
}

/** What changed from `a` to `b`: per table, rows added, removed and changed (tables without change are absent). */
export function diffSnapshots(a: Snapshot, b: Snapshot): SnapshotDiff {
  const diff: SnapshotDiff = new Map();
  for (const table of new Set([...a.keys(), ...b.keys()])) {
    const before = a.get(table) ?? new Map<string, string>();
    const after = b.get(table) ?? new Map<string, string>();
    const d: TableDiff = { added: [], removed: [], changed: [] };
    for (const [k, v] of after) {
      const old = before.get(k);
      if (old === undefined) d.added.push(JSON.parse(v));
      else if (old !== v) d.changed.push({ before: JSON.parse(old), after: JSON.parse(v) });
    }
    for (const [k, v] of before) if (!after.has(k)) d.removed.push(JSON.parse(v));
    if (d.added.length + d.removed.length + d.changed.length > 0) diff.set(table, d);
  }
  return diff;
}

/** What a case may leave behind: per table, only inserts, or any change; every other table must be untouched. */
export type AllowedChanges = Readonly<Record<string, 'insert' | 'any'>>;

/** The changes in `diff` that `allowed` does not cover, described for an assertion message (empty: none). */
export function unexpectedChanges(diff: SnapshotDiff, allowed: AllowedChanges = {}): string[] {
  const out: string[] = [];
  for (const [table, d] of diff) {
    const rule = allowed[table];
    if (rule === 'any') continue;
    if (rule === 'insert' && d.removed.length === 0 && d.changed.length === 0) continue;
    const parts = [
      d.added.length ? `+${d.added.length} ${JSON.stringify(d.added.slice(0, 2))}` : '',
      d.removed.length ? `-${d.removed.length}` : '',
      d.changed.length ? `~${d.changed.length} ${JSON.stringify(d.changed.slice(0, 1))}` : '',
    ].filter(Boolean);
    out.push(`${table}: ${parts.join(' ')}`);
  }
  return out;
}

/** Asserts that `diff` holds nothing but what `allowed` lets through. */
export function assertNoChangeExcept(diff: SnapshotDiff, allowed: AllowedChanges, message: string): void {
  const bad = unexpectedChanges(diff, allowed);
  assert.deepEqual(bad, [], `${message}: unexpected changes\n  ${bad.join('\n  ')}`);
}
