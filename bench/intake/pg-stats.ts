// Commits of one database, read from pg_stat_database over an admin connection to ANOTHER database
// (reading must not add commits to the one measured). Backends flush their counters at most once a
// second and an idle one within 10 s (PostgreSQL 15), so a reading is taken once the counter has
// stopped moving for longer than that.
import pg from 'pg';

export interface CommitCounter {
  /** xact_commit of the database now (as last flushed). */
  read(): Promise<number>;
  /** Sessions ever opened to the database: each new connection's start-up is one commit too. */
  sessions(): Promise<number>;
  /**
   * Waits until xact_commit has not changed for `quietMs` (at most `maxMs`); returns it, whether it
   * got quiet, and the commits seen per second while waiting (background noise when not quiet).
   */
  settled(quietMs?: number, maxMs?: number): Promise<{ value: number; quiet: boolean; perSecond: number }>;
  close(): Promise<void>;
}

export async function commitCounter(adminUrl: string, database: string): Promise<CommitCounter> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const read = async () => {
    const r = await client.query<{ n: string }>(
      'select xact_commit::text as n from pg_stat_database where datname = $1',
      [database],
    );
    return Number(r.rows[0]?.n ?? 0);
  };
  return {
    read,
    async sessions() {
      const r = await client.query<{ n: string }>(
        'select sessions::text as n from pg_stat_database where datname = $1',
        [database],
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    async settled(quietMs = 11_000, maxMs = 40_000) {
      const started = Date.now();
      const deadline = started + maxMs;
      const first = await read();
      let last = first;
      let since = Date.now();
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const now = await read();
        if (now !== last) {
          last = now;
          since = Date.now();
        } else if (Date.now() - since >= quietMs) {
          return { value: now, quiet: true, perSecond: 0 };
        }
      }
      return { value: last, quiet: false, perSecond: (last - first) / ((Date.now() - started) / 1000) };
    },
    close: () => client.end(),
  };
}

/** Statements run in one database, from pg_stat_statements (when the cluster preloads it). */
export interface StatementCounter {
  readonly available: boolean;
  /** Forgets this database's statements (only this database's: others may be measuring too). */
  reset(): Promise<void>;
  /** Calls per normalised statement since the reset, most called first. */
  read(): Promise<Array<{ calls: number; query: string }>>;
  close(): Promise<void>;
}

export async function statementCounter(adminUrl: string, database: string): Promise<StatementCounter> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  let available = true;
  try {
    await client.query('create extension if not exists pg_stat_statements');
    await client.query('select 1 from pg_stat_statements limit 1');
  } catch {
    available = false;
  }
  const dbid = async () =>
    (await client.query<{ oid: number }>('select oid from pg_database where datname = $1', [database])).rows[0]?.oid ??
    0;
  return {
    available,
    async reset() {
      if (available) await client.query('select pg_stat_statements_reset(0, $1::oid, 0)', [await dbid()]);
    },
    async read() {
      if (!available) return [];
      const r = await client.query<{ calls: string; query: string }>(
        "select calls::text, regexp_replace(query, '\\s+', ' ', 'g') as query from pg_stat_statements where dbid = $1 order by calls desc",
        [await dbid()],
      );
      return r.rows.map((row) => ({ calls: Number(row.calls), query: row.query }));
    },
    close: () => client.end(),
  };
}
