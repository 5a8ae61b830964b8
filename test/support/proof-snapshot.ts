// Proof suites: "no state change" made checkable. A snapshot is, per table of one party's PostgreSQL
// database, its row count and an MD5 over all its rows (each row as text, sorted), read in one
// REPEATABLE READ transaction so the figures are of one moment. Tables that legitimately grow when
// a request is refused (receipts of refused webhooks, rate-limit counters…) are excluded by the
// caller, who says why.
import assert from 'node:assert/strict';
import pg from 'pg';

export type Snapshot = ReadonlyMap<string, { readonly rows: number; readonly hash: string }>;

export interface Snapshotter {
  /** Count and hash of every table but the excluded ones. */
  take(): Promise<Snapshot>;
  /** Rows of one table (for asserting on the excluded ones precisely). */
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens one connection to `url`; `exclude` names tables (in any schema) left out of the snapshot;
 * `columns` hashes only the named columns of a table (e.g. the identity of queued jobs, not the
 * worker's bookkeeping of their next run).
 */
export async function snapshotter(url: string, exclude: readonly string[] = [], columns: Readonly<Record<string, readonly string[]>> = {}): Promise<Snapshotter> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const tables = (
    await client.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
        order by 1, 2`,
    )
  ).rows.filter((t) => !exclude.includes(t.name) && !exclude.includes(`${t.schema}.${t.name}`));
  const ident = (t: { schema: string; name: string }) => `${pg.escapeIdentifier(t.schema)}.${pg.escapeIdentifier(t.name)}`;
  return {
    async take() {
      await client.query('begin isolation level repeatable read read only');
      try {
        const out = new Map<string, { rows: number; hash: string }>();
        for (const t of tables) {
          const only = columns[t.name];
          const row = only ? `row(${only.map((c) => `r.${pg.escapeIdentifier(c)}`).join(', ')})::text` : 'r::text';
          const r = await client.query<{ rows: string; hash: string | null }>(
            `select count(*)::text as rows, md5(coalesce(string_agg(x.t, E'\\n' order by x.t), '')) as hash
               from (select ${row} as t from ${ident(t)} r) x`,
          );
          out.set(`${t.schema}.${t.name}`, { rows: Number(r.rows[0]!.rows), hash: r.rows[0]!.hash ?? '' });
        }
        return out;
      } finally {
        await client.query('commit');
      }
    },
    async count(table) {
      const r = await client.query<{ n: string }>(`select count(*)::text as n from ${pg.escapeIdentifier(table)}`);
      return Number(r.rows[0]!.n);
    },
    close: () => client.end(),
  };
}

/** The tables whose count or content differ between two snapshots (empty when nothing changed). */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  const changed: string[] = [];
  for (const [table, b] of before) {
    const a = after.get(table);
    if (!a || a.rows !== b.rows || a.hash !== b.hash) changed.push(`${table} (${b.rows} → ${a?.rows ?? '?'} rows)`);
  }
  return changed;
}

/** Asserts that nothing changed between two snapshots. */
export function assertUnchanged(before: Snapshot, after: Snapshot, message: string): void {
  const changed = changedTables(before, after);
  assert.deepEqual(changed, [], `${message}: tables changed: ${changed.join(', ')}`);
}
