// The results of one `npm run bench`: their JSON shape, the targets checked against them, and
// the terminal table.
import { formatSummaries, type ProfileSummary } from './flame.ts';
import type { FlowResult } from './flow.ts';
import type { IntakeResult } from './intake.ts';
import type { MailResult } from './mail.ts';
import type { PushResult } from './push.ts';
import type { LoopResult } from './loop.ts';
import type { CpuResult, DatabaseCounters, MemoryResult, PerParty } from './system.ts';

/** One row of the webhook-intake scenario (bench/intake.ts). */
export type IntakeRow = IntakeResult;

export interface PerOrder {
  readonly statements: number;
  readonly statementsWithoutTransactionControl: number;
  readonly commits: number;
}

export interface SingleOrder {
  readonly durationMs: number;
  /** Counted while the one order ran (everything the databases executed meanwhile). */
  readonly raw: PerParty<DatabaseCounters>;
  /** What the idle system (job pollers, heartbeats) executes in the same time, measured just before. */
  readonly background: PerParty<DatabaseCounters>;
  /** raw − background: the order's own cost. */
  readonly net: PerParty<DatabaseCounters>;
  /** The shop's statements during the order, most called first. */
  readonly shopStatements: Array<{ calls: number; query: string }>;
  /** Every party's statements of the one order, most called first (the shop's are also shopStatements). */
  readonly statements: PerParty<Array<{ calls: number; query: string }>>;
}

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  /** null: not measured in this run. */
  readonly met: boolean | null;
}

export interface BenchResults {
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: { cpus: number; cpuModel: string; loadAverageAtStart: number[]; node: string; postgres: string };
  readonly settings: Record<string, unknown>;
  /** Shop processes on the shop's database (`--shop-nodes`; absent in results from before it: 1). */
  readonly shopNodes?: number;
  readonly flow: FlowResult;
  readonly sql: {
    readonly statementsTracked: boolean;
    /** Counter deltas over the measured window ÷ paid orders in it. */
    readonly perPaidOrder: PerParty<PerOrder> | null;
    readonly window: PerParty<DatabaseCounters>;
    /** Each party's statements in the measured window, calls ÷ paid orders, most called first (absent before it). */
    readonly underLoad?: PerParty<Array<{ perOrder: number; query: string }>>;
    /** One order from cart to paid with nothing else running. */
    readonly singleOrder: SingleOrder | null;
  };
  readonly push: PushResult | null;
  /** The receipts of the window: sent in it, or left for after it (absent in results from before it). */
  readonly mail?: MailResult;
  /** Per service process: shop, gateway, bank, and the extra shop nodes (shop-2, shop-3, …). */
  readonly memory: PerParty<MemoryResult> & Record<string, MemoryResult>;
  /** Where the CPU went during the measured window (the machine's cores bound the throughput). */
  readonly cpu: CpuResult;
  /** Each service and watcher process's event loop over the measured window (bench/loop-probe.mjs). */
  readonly loop?: Record<string, LoopResult>;
  readonly intake: { readonly rows: IntakeRow[]; readonly note?: string };
  /** `--cpu-prof`: where each party's CPU went over its whole run (start, set-up, warm-up and window). */
  readonly profile?: ProfileSummary[];
  readonly targets: Target[];
}

const f = (x: number | null | undefined, d = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d);

/** Every target of issue 7 against this run's figures. */
export function checkTargets(r: Omit<BenchResults, 'targets'>): Target[] {
  const t: Target[] = [];
  t.push({
    name: 'full flow throughput',
    target: '>= 100 paid orders/s',
    measured: `${f(r.flow.paidPerSecond, 2)} paid orders/s (${r.flow.customers} customers)`,
    met: r.flow.paidPerSecond >= 100,
  });
  const pg8 = r.intake.rows.filter((row) => row.engine === 'postgres' && row.ratioToPgbench !== undefined);
  t.push({
    name: 'webhook intake vs pgbench',
    target: '>= 0.6x pgbench',
    measured: pg8.length
      ? pg8.map((row) => `c=${row.concurrency}: ${f(row.ratioToPgbench, 2)}x`).join(', ')
      : 'not measured',
    met: pg8.length ? pg8.every((row) => row.ratioToPgbench! >= 0.6) : null,
  });
  const single = r.sql.singleOrder;
  t.push({
    name: 'shop SQL statements per paid order (cart to paid)',
    target: '<= 30',
    measured: single
      ? `${single.net.shop.statements} alone (${single.net.shop.statements - single.net.shop.transactionControl} without BEGIN/COMMIT); ${f(r.sql.perPaidOrder?.shop.statements)} under load`
      : 'not measured',
    met: single ? single.net.shop.statements <= 30 : null,
  });
  const commitRows = r.intake.rows.filter((row) => row.engine === 'postgres' && row.commitsPerDelivery !== null);
  t.push({
    name: 'commits per accepted webhook',
    target: 'exactly 1',
    measured: commitRows.length
      ? commitRows.map((row) => `c=${row.concurrency}: ${f(row.commitsPerDelivery, 3)}`).join(', ')
      : 'not measured',
    met: commitRows.length ? commitRows.every((row) => Math.abs(row.commitsPerDelivery! - 1) < 0.05) : null,
  });
  t.push({
    name: 'push latency p99',
    target: '<= 50 ms',
    measured: r.push
      ? `p50 ${f(r.push.latency.p50Ms)} ms, p99 ${f(r.push.latency.p99Ms)} ms (${r.push.watchers} watchers, ${r.push.messages} messages)`
      : 'not measured',
    met: r.push && r.push.messages > 0 ? r.push.latency.p99Ms <= 50 : null,
  });
  const peaks = Object.entries(r.memory).map(([p, m]) => `${p} ${f(m.peakMb, 0)}`);
  t.push({
    name: 'resident memory per service (peak)',
    target: '<= 150 MB',
    measured: `${peaks.join(', ')} MB`,
    met: Object.values(r.memory).every((m) => m.peakMb <= 150),
  });
  const lite = r.intake.rows.filter((row) => row.engine === 'pglite' && row.ratioToPostgres !== undefined);
  t.push({
    name: 'PGlite intake vs PostgreSQL',
    target: '>= 0.3x',
    measured: lite.length
      ? lite.map((row) => `c=${row.concurrency}: ${f(row.ratioToPostgres, 2)}x`).join(', ')
      : 'not measured',
    met: lite.length ? lite.every((row) => row.ratioToPostgres! >= 0.3) : null,
  });
  return t;
}

function table(head: string[], rows: string[][], alignLeft = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < alignLeft ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The terminal report. */
export function formatReport(r: BenchResults): string {
  const out: string[] = [];
  out.push(
    `== full flow: ${r.flow.customers} customers, ${r.flow.durationS} s measured after ${r.flow.warmupS} s warm-up ==`,
  );
  out.push(
    `paid orders: ${r.flow.paidOrders}  →  ${f(r.flow.paidPerSecond, 2)} paid orders/s   (errors: ${r.flow.errors})`,
  );
  for (const e of r.flow.errorSamples.slice(0, 3)) out.push(`  error: ${e}`);
  out.push(
    table(
      ['step', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      r.flow.steps.map((s) => [s.step, String(s.count), f(s.p50Ms), f(s.p90Ms), f(s.p99Ms), f(s.maxMs)]),
    ),
  );

  out.push('', '== SQL per paid order (pg_stat_statements calls incl. BEGIN/COMMIT; commits from pg_stat_database) ==');
  const parties = ['shop', 'gateway', 'bank'] as const;
  const single = r.sql.singleOrder;
  out.push(
    table(
      ['database', 'stmts/order (load)', 'w/o BEGIN/COMMIT', 'commits/order (load)', 'stmts one order alone'],
      parties.map((p) => [
        p,
        f(r.sql.perPaidOrder?.[p].statements),
        f(r.sql.perPaidOrder?.[p].statementsWithoutTransactionControl),
        f(r.sql.perPaidOrder?.[p].commits),
        single ? `${single.net[p].statements} (raw ${single.raw[p].statements})` : '-',
      ]),
    ),
  );
  // The one order's commits (in the JSON) are too noisy to print: the job pollers' autocommit
  // statements over the ~11 s the commit counters need to settle dwarf the order's own.
  if (!r.sql.statementsTracked) out.push('(pg_stat_statements is not loaded in this cluster: statement counts are 0)');

  out.push('', '== push latency (commit → message at a watcher) ==');
  if (r.push) {
    out.push(
      `${r.push.watchers} watchers (fan-out ${r.push.fanout}; ${r.push.watching} on ${r.push.rooms} invoice rooms at the end), ${r.push.messages} messages: p50 ${f(r.push.latency.p50Ms)} ms, p90 ${f(r.push.latency.p90Ms)} ms, p99 ${f(r.push.latency.p99Ms)} ms, max ${f(r.push.latency.maxMs)} ms` +
        ` (commit time from ${r.push.commitTimeSource}; dropped sockets ${r.push.dropped}, refused joins ${r.push.joinsRefused})`,
    );
    if (r.push.byNode && r.push.byNode.length > 1)
      out.push(
        table(
          ['shop node', 'url', 'watchers', 'messages', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
          r.push.byNode.map((n) => [
            n.node,
            n.url,
            String(n.watchers),
            String(n.messages),
            f(n.latency.p50Ms),
            f(n.latency.p90Ms),
            f(n.latency.p99Ms),
            f(n.latency.maxMs),
          ]),
          2,
        ),
      );
  } else out.push('not run (--watchers 0)');

  out.push('', '== resident memory (VmRSS) ==');
  out.push(
    table(
      ['service', 'idle MB', 'peak MB', 'high-water MB'],
      Object.entries(r.memory).map(([p, m]) => [p, f(m.idleMb), f(m.peakMb), f(m.hwmMb)]),
    ),
  );

  out.push(
    '',
    `== CPU per paid order, ms (measured window; this run kept ${Math.round(r.cpu.utilisation * 100)}% of ${r.machine.cpus} CPUs busy) ==`,
  );
  const cpuKeys = Object.keys(r.cpu.perPaidOrderMs);
  out.push(table(cpuKeys, [cpuKeys.map((k) => f(r.cpu.perPaidOrderMs[k]))], 0));
  if (r.cpu.byProcess) {
    const procs = Object.entries(r.cpu.byProcess);
    out.push(
      '(shop and watchers above are the sum of their processes:)',
      table(
        ['process', 'ms/order', 'share of one core'],
        procs.map(([k, v]) => [k, f(v.perPaidOrderMs), `${Math.round(v.coreShare * 100)}%`]),
      ),
    );
  }
  if (r.loop && Object.keys(r.loop).length) {
    out.push(
      '',
      "== event loop per process (measured window; worst second's p99 delay, longest delay, mean utilisation) ==",
    );
    out.push(
      table(
        ['process', 'p99 ms', 'max ms', 'utilisation'],
        Object.entries(r.loop).map(([k, l]) => [k, f(l.p99Ms), f(l.maxMs), `${Math.round(l.utilisation * 100)}%`]),
      ),
    );
  }

  out.push('', '== webhook intake ==');
  if (r.intake.rows.length) {
    out.push(
      table(
        ['engine', 'c', 'deliveries/s', 'p50 ms', 'p99 ms', 'commits/delivery', 'pgbench tps', 'ratio'],
        r.intake.rows.map((row) => [
          row.engine,
          String(row.concurrency),
          f(row.perSecond),
          f(row.p50Ms, 2),
          f(row.p99Ms, 2),
          f(row.commitsPerDelivery, 3),
          row.pgbench ? f(row.pgbench.tps) : '-',
          row.ratioToPgbench !== undefined
            ? `${f(row.ratioToPgbench, 2)}x pgbench`
            : row.ratioToPostgres !== undefined
              ? `${f(row.ratioToPostgres, 2)}x PostgreSQL`
              : '-',
        ]),
        1,
      ),
    );
  }
  if (r.intake.note) out.push(r.intake.note);

  if (r.profile?.length) {
    out.push('', '== where the CPU went (--cpu-prof: each party from its start to its stop; wall-clock samples) ==');
    out.push(formatSummaries(r.profile));
  }

  out.push('', '== targets (issue 7) ==');
  out.push(
    table(
      ['target', 'goal', 'measured', 'met'],
      r.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO']),
      3,
    ),
  );
  return out.join('\n');
}
