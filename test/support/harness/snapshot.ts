// "No state change" made checkable, for every suite alike. A snapshot holds, per table of one party's
// PostgreSQL database, every row as JSON keyed by its primary key (the whole row when there is none),
// read in one REPEATABLE READ transaction so that it is of one moment. Two snapshots diff into rows
// added, removed and changed per table; a case then asserts "nothing changed" or "nothing but the
// refusal record it is expected to leave". Tables that legitimately grow when a request is refused are
// excluded (or allowed) by the caller, who says why.
import assert from 'node:assert/strict';
import pg from 'pg';

/** table → (primary key → row as JSON). Tables of the public schema by name, others as schema.name. */
export type Snapshot = ReadonlyMap<string, ReadonlyMap<string, string>>;

export interface TableDiff {
  readonly added: Record<string, unknown>[];
  readonly removed: Record<string, unknown>[];
  readonly changed: { before: Record<string, unknown>; after: Record<string, unknown> }[];
}
export type SnapshotDiff = Map<string, TableDiff>;

export interface Snapshotter {
  /** Every table but the excluded ones. */
  take(): Promise<Snapshot>;
  /** Rows of one table (for asserting on the excluded ones precisely). */
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

interface Table {
  readonly name: string;
  readonly select: string;
}

// Columns a background process fills in after a commit, whatever a case did: the shop's audit sealer
// gives each committed entry its position and hashes moments later (a trigger allows nothing else),
// and moves the chain's end to the last of them. Left out of the rows compared, so that sealing is
// not taken for a change; the entries' content still is, and the chain itself is checked by
// `audit verify`.
const FILLED_AFTER_COMMIT: Readonly<Record<string, readonly string[]>> = {
  audit_log: ['chain_pos', 'chain_version', 'prev_hash', 'hash'],
  audit_chain_tip: ['pos', 'hash'],
};

/**
 * Opens one connection to the database at `url`. `exclude` names tables (in any schema) left out;
 * `columns` keeps only the named columns of a table (e.g. the identity of queued jobs, not the
 * worker's bookkeeping of their next run). Migration bookkeeping is never part of a snapshot.
 */
export async function snapshotter(
  url: string,
  options: { exclude?: readonly string[]; columns?: Readonly<Record<string, readonly string[]>> } = {},
): Promise<Snapshotter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const exclude = options.exclude ?? [];
  const found = await client.query<{ schema: string; name: string; pk: string[] | null }>(
    `select t.table_schema as schema, t.table_name as name,
            (select array_agg(a.attname::text order by a.attnum) from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
              where i.indrelid = format('%I.%I', t.table_schema, t.table_name)::regclass and i.indisprimary) as pk
       from information_schema.tables t
      where t.table_type = 'BASE TABLE' and t.table_schema not in ('pg_catalog', 'information_schema') and t.table_name not like '%migrations%'
      order by 1, 2`,
  );
  const tables: Table[] = found.rows
    .filter((t) => !exclude.includes(t.name) && !exclude.includes(`${t.schema}.${t.name}`))
    .map((t) => {
      const only = options.columns?.[t.name];
      const later = FILLED_AFTER_COMMIT[t.name] ?? [];
      const row = only
        ? `json_build_object(${only.map((c) => `${pg.escapeLiteral(c)}, r.${pg.escapeIdentifier(c)}`).join(', ')})`
        : later.length
          ? `(to_jsonb(r) ${later.map((c) => `- ${pg.escapeLiteral(c)}`).join(' ')})`
          : 'row_to_json(r)';
      const key = t.pk?.length
        ? `concat_ws('|', ${t.pk.map((c) => `r.${pg.escapeIdentifier(c)}::text`).join(', ')})`
        : 'r::text';
      const from = `${pg.escapeIdentifier(t.schema)}.${pg.escapeIdentifier(t.name)}`;
      return {
        name: t.schema === 'public' ? t.name : `${t.schema}.${t.name}`,
        select: `select ${key} as k, ${row}::text as v from ${from} r`,
      };
    });
  // One connection: snapshots asked for at once are read one after the other.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    take: () =>
      serial(async () => {
        await client.query('begin isolation level repeatable read read only');
        try {
          const out = new Map<string, Map<string, string>>();
          for (const t of tables)
            out.set(
              t.name,
              new Map((await client.query<{ k: string; v: string }>(t.select)).rows.map((r) => [r.k, r.v])),
            );
          return out;
        } finally {
          await client.query('commit');
        }
      }),
    count: (table) =>
      serial(async () =>
        Number(
          (await client.query<{ n: string }>(`select count(*)::text as n from ${pg.escapeIdentifier(table)}`)).rows[0]!
            .n,
        ),
      ),
    close: () => client.end(),
  };
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

/** The tables whose rows differ between two snapshots (empty when nothing changed). */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  return unexpectedChanges(diffSnapshots(before, after));
}

/** Asserts that nothing changed between two snapshots. */
export function assertUnchanged(before: Snapshot, after: Snapshot, message: string): void {
  const changed = changedTables(before, after);
  assert.deepEqual(changed, [], `${message}: tables changed: ${changed.join(', ')}`);
}

export type SnapshotOptions = Parameters<typeof snapshotter>[1];

/** One snapshotter per database of `urls` (e.g. a system's `databaseUrls`), with the options each party's takes. */
export async function snapshotters<P extends string>(
  urls: Readonly<Record<P, string>>,
  options: (name: P) => SnapshotOptions = () => ({}),
): Promise<Record<P, Snapshotter>> {
  const names = Object.keys(urls) as P[];
  return Object.fromEntries(
    await Promise.all(names.map(async (n) => [n, await snapshotter(urls[n], options(n))] as const)),
  ) as Record<P, Snapshotter>;
}

/** Closes every snapshotter of a record (those that were opened). */
export async function closeSnapshotters(snaps: Readonly<Record<string, Snapshotter>> | undefined): Promise<void> {
  await Promise.all(Object.values(snaps ?? {}).map((s) => s.close().catch(() => undefined)));
}
