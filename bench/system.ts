// The system under test, as `npm start` runs it: src/main.ts forks the shop, the gateway and the
// bank as three processes, each on its own PostgreSQL database of the bench's cluster. Also: the
// service processes' resident memory (item 5) and the databases' statement and commit counters
// (item 3).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { launchSystem, type LaunchedSystem, type Party, type PerParty } from '../test/support/harness/processes.ts';
import { sleep } from './stats.ts';

/** The bench reports the parties in this order. */
export const PARTIES: readonly Party[] = ['shop', 'gateway', 'bank'];
export type { Party, PerParty };

/** A URL for `database` on the cluster of `adminUrl`. */
export function withDatabase(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates one empty database per party (the services migrate them at start). */
export async function createPartyDatabases(adminUrl: string, runId: string): Promise<PerParty<string>> {
  const names = Object.fromEntries(PARTIES.map((p) => [p, `bench_${runId}_${p}`])) as PerParty<string>;
  await admin(adminUrl, async (c) => {
    for (const p of PARTIES) await c.query(`create database "${names[p]}"`);
    await c.query('create extension if not exists pg_stat_statements');
  });
  return names;
}

export async function dropPartyDatabases(adminUrl: string, names: PerParty<string>): Promise<void> {
  await admin(adminUrl, async (c) => {
    for (const p of PARTIES) await c.query(`drop database if exists "${names[p]}" with (force)`);
  });
}

/** Whether pg_stat_statements is loaded in this cluster (shared_preload_libraries). */
export async function statementsAvailable(adminUrl: string): Promise<boolean> {
  return admin(adminUrl, async (c) => {
    try {
      await c.query('select 1 from pg_stat_statements limit 1');
      return true;
    } catch {
      return false;
    }
  });
}

export interface RunningBenchSystem {
  readonly system: LaunchedSystem;
  readonly pids: PerParty<number>;
  readonly urls: LaunchedSystem['urls'];
  stop(): Promise<void>;
}

/** Starts src/main.ts (the test harness's launcher) on the three databases; resolves when all three are ready. */
export async function startBenchSystem(
  databaseUrls: PerParty<string>,
  env: Record<string, string> = {},
): Promise<RunningBenchSystem> {
  const system = await launchSystem({
    SHOP_DATABASE_URL: databaseUrls.shop,
    GATEWAY_DATABASE_URL: databaseUrls.gateway,
    BANK_DATABASE_URL: databaseUrls.bank,
    ...env,
  });
  try {
    return { system, pids: system.pids(), urls: system.urls, stop: () => system.stop() };
  } catch (err) {
    await system.stop();
    throw err;
  }
}

/** A process's resident set and its high-water mark, in MB, from /proc/<pid>/status. */
export function residentMb(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, hwmMb: Math.round(kb('VmHWM') / 102.4) / 10 };
}

export interface MemoryResult {
  /** RSS after start-up, before any load. */
  readonly idleMb: number;
  /** Highest RSS sampled while the load ran. */
  readonly peakMb: number;
  /** The kernel's high-water mark at the end (includes start-up and migrations). */
  readonly hwmMb: number;
}

/** Samples the services' RSS (every process named: the parties and any extra shop node) every `everyMs` while running; `idle` is read at construction. */
export class MemorySampler<K extends string = Party> {
  readonly idle: Record<K, number>;
  private readonly peak: Record<K, number>;
  private readonly names: K[];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: Record<K, number>) {
    this.names = Object.keys(pids) as K[];
    this.idle = this.current();
    this.peak = { ...this.idle };
  }

  start(everyMs = 500): void {
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    for (const p of this.names) {
      try {
        this.peak[p] = Math.max(this.peak[p], residentMb(this.pids[p]).rssMb);
      } catch {
        // the process is gone; the run will fail elsewhere
      }
    }
  }

  current(): Record<K, number> {
    return Object.fromEntries(this.names.map((p) => [p, residentMb(this.pids[p]).rssMb])) as Record<K, number>;
  }

  stop(): Record<K, MemoryResult> {
    clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(
      this.names.map((p) => {
        let hwmMb = Number.NaN;
        try {
          hwmMb = residentMb(this.pids[p]).hwmMb;
        } catch {
          // gone
        }
        return [p, { idleMb: this.idle[p], peakMb: this.peak[p], hwmMb }];
      }),
    ) as Record<K, MemoryResult>;
  }
}

export interface DatabaseCounters {
  /** Every statement pg_stat_statements saw (BEGIN and COMMIT included). */
  readonly statements: number;
  /** Of which transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE). */
  readonly transactionControl: number;
  readonly commits: number;
  readonly rollbacks: number;
}

const TXN_CONTROL = `(query ~* '^\\s*(begin|commit|rollback|start transaction|savepoint|release|end)\\M')`;

/** Statement and commit counters of the three databases. */
export class DatabaseStats {
  constructor(
    private readonly adminUrl: string,
    private readonly names: PerParty<string>,
    readonly statementsTracked: boolean,
  ) {}

  /**
   * The counters now. Commit counts reach pg_stat_database when a backend flushes its statistics
   * (at the latest ~10 s after it goes idle, sooner when busy), so deltas over short windows are
   * read after `settleMs`.
   */
  async read(settleMs = 0): Promise<PerParty<DatabaseCounters>> {
    if (settleMs) await sleep(settleMs);
    return admin(this.adminUrl, async (c) => {
      const out = {} as Record<Party, DatabaseCounters>;
      for (const p of PARTIES) {
        const db = (
          await c.query<{ commits: string; rollbacks: string }>(
            'select xact_commit::text as commits, xact_rollback::text as rollbacks from pg_stat_database where datname = $1',
            [this.names[p]],
          )
        ).rows[0];
        let statements = 0;
        let transactionControl = 0;
        if (this.statementsTracked) {
          const s = (
            await c.query<{ all: string; txn: string }>(
              `select coalesce(sum(calls), 0)::text as all, coalesce(sum(calls) filter (where ${TXN_CONTROL}), 0)::text as txn
                 from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1`,
              [this.names[p]],
            )
          ).rows[0]!;
          statements = Number(s.all);
          transactionControl = Number(s.txn);
        }
        out[p] = {
          statements,
          transactionControl,
          commits: Number(db?.commits ?? 0),
          rollbacks: Number(db?.rollbacks ?? 0),
        };
      }
      return out;
    });
  }

  /** Calls per statement of one database so far (pg_stat_statements is never reset: other runs may share the cluster). */
  async queries(party: Party): Promise<Map<string, { calls: number; query: string }>> {
    if (!this.statementsTracked) return new Map();
    return admin(this.adminUrl, async (c) => {
      const r = await c.query<{ key: string; calls: string; query: string }>(
        `select s.userid::text || ':' || s.queryid::text as key, s.calls::text, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160) as query
           from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1`,
        [this.names[party]],
      );
      return new Map(r.rows.map((row) => [row.key, { calls: Number(row.calls), query: row.query }]));
    });
  }
}

/** The statements run between two `queries()` snapshots, most called first. */
export function queriesBetween(
  a: Map<string, { calls: number; query: string }>,
  b: Map<string, { calls: number; query: string }>,
): Array<{ calls: number; query: string }> {
  const out: Array<{ calls: number; query: string }> = [];
  for (const [key, v] of b) {
    const calls = v.calls - (a.get(key)?.calls ?? 0);
    if (calls > 0) out.push({ calls, query: v.query });
  }
  return out.sort((x, y) => y.calls - x.calls || x.query.localeCompare(y.query));
}

/** b − a, per party and counter. */
export function diffCounters(a: PerParty<DatabaseCounters>, b: PerParty<DatabaseCounters>): PerParty<DatabaseCounters> {
  return Object.fromEntries(
    PARTIES.map((p) => [
      p,
      {
        statements: b[p].statements - a[p].statements,
        transactionControl: b[p].transactionControl - a[p].transactionControl,
        commits: b[p].commits - a[p].commits,
        rollbacks: b[p].rollbacks - a[p].rollbacks,
      },
    ]),
  ) as PerParty<DatabaseCounters>;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user + system) a process has used so far, in ms; 0 when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

/** The PostgreSQL backends serving the three databases (on this machine). */
export async function backendPids(adminUrl: string, names: PerParty<string>): Promise<number[]> {
  return admin(adminUrl, async (c) =>
    (
      await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = any($1)', [Object.values(names)])
    ).rows.map((r) => r.pid),
  );
}

export type CpuSnapshot = {
  readonly at: number;
  readonly byProcess: Record<string, number>;
  readonly backends: Map<number, number>;
};

/** CPU used so far by each process named (services, launcher, watcher process), this process, and the backends. */
export async function cpuSnapshot(
  adminUrl: string,
  names: PerParty<string>,
  pids: Record<string, number>,
): Promise<CpuSnapshot> {
  const usage = process.cpuUsage();
  const backends = new Map((await backendPids(adminUrl, names)).map((pid) => [pid, cpuMs(pid)]));
  const byProcess: Record<string, number> = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  byProcess.bench = (usage.user + usage.system) / 1000;
  return { at: performance.now(), byProcess, backends };
}

export interface CpuResult {
  /** CPU ms per paid order by process group (postgres = the backends of the three databases; shop = every shop node). */
  readonly perPaidOrderMs: Record<string, number>;
  /** CPU seconds used in the window ÷ (window seconds × CPUs): how busy the machine was with this run. */
  readonly utilisation: number;
  /**
   * With several processes of a group (shop, shop-2, shop-3; watchers, watchers-2): each one's CPU ms
   * per paid order and its share of one core over the window (1 = a core busy the whole time).
   */
  readonly byProcess?: Record<string, { readonly perPaidOrderMs: number; readonly coreShare: number }>;
}

/** `shop-2` belongs to `shop`, `watchers-3` to `watchers`. */
const groupOf = (name: string) => name.replace(/-\d+$/, '');

export function cpuResult(a: CpuSnapshot, b: CpuSnapshot, paidOrders: number, cpus: number): CpuResult {
  const perOrder = (ms: number) => (paidOrders ? Math.round((ms / paidOrders) * 10) / 10 : Number.NaN);
  const windowMs = b.at - a.at;
  const used: Record<string, number> = {};
  const byProcess: Record<string, { perPaidOrderMs: number; coreShare: number }> = {};
  const keys = Object.keys(b.byProcess);
  for (const k of keys) {
    const ms = b.byProcess[k]! - (a.byProcess[k] ?? 0);
    used[groupOf(k)] = (used[groupOf(k)] ?? 0) + ms;
    if (keys.some((other) => other !== k && groupOf(other) === groupOf(k)))
      byProcess[k] = { perPaidOrderMs: perOrder(ms), coreShare: Math.round((ms / windowMs) * 100) / 100 };
  }
  let postgres = 0;
  for (const [pid, ms] of b.backends) postgres += ms - (a.backends.get(pid) ?? 0);
  used.postgres = postgres;
  const total = Object.values(used).reduce((x, y) => x + y, 0);
  const perPaidOrderMs = Object.fromEntries(Object.entries(used).map(([k, v]) => [k, perOrder(v)]));
  perPaidOrderMs.total = perOrder(total);
  return {
    perPaidOrderMs,
    utilisation: Math.round((total / (windowMs * cpus)) * 100) / 100,
    ...(Object.keys(byProcess).length ? { byProcess } : {}),
  };
}
