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
   * Waits until xact_commit has risen by no more than `backgroundPerSecond` for `quietMs` (at most
   * `maxMs`); returns it, whether it got quiet, and the commits seen per second while waiting
   * (background noise when not quiet). The background is a poll the database's owner runs while
   * idle (the shop's audit sealer reads once a second): never still, it would hold every wait to
   * `maxMs`, while a backend's late flush still shows as a rise above it.
   */
  settled(opts?: {
    quietMs?: number;
    maxMs?: number;
    backgroundPerSecond?: number;
  }): Promise<{ value: number; quiet: boolean; perSecond: number }>;
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
    async settled({ quietMs = 11_000, maxMs = 40_000, backgroundPerSecond = 0 } = {}) {
      const started = Date.now();
      const deadline = started + maxMs;
      const first = await read();
      const seen = [{ at: started, value: first }];
      const allowed = Math.floor((backgroundPerSecond * quietMs) / 1000) + (backgroundPerSecond ? 1 : 0);
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const now = { at: Date.now(), value: await read() };
        seen.push(now);
        // The reading quietMs ago (the latest one at least that old), if the wait is that long yet.
        const from = seen.findLast((s) => now.at - s.at >= quietMs);
        if (from && now.value - from.value <= allowed) return { value: now.value, quiet: true, perSecond: 0 };
      }
      const last = seen.at(-1)!.value;
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
