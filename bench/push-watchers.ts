// The watchers as the bench process drives them (bench/push.ts has the sockets and the figures): where
// each watcher goes (customer, shop node, watcher process), the watcher processes themselves
// (bench/push-process.ts, forked), and the joins and stats asked of them.
import { join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Customer } from './flow.ts';
import { mergeStats, pushResult, type Placement, type PushResult, type WatcherStats } from './push.ts';
import { projectRoot } from '../src/platform/project-root.ts';

type Reply =
  | { type: 'opened'; size: number }
  | { type: 'watched'; seq: number; error?: string }
  | { type: 'stats'; stats: WatcherStats }
  | { type: 'failed'; error: string };

/**
 * Where each watcher goes: watcher i to customer i mod C; that customer's k-th watcher to node k mod N
 * and to watcher process ⌊k / N⌋ mod P, so that every process holds every customer's watchers on
 * every node. One list per process.
 */
export function placeWatchers(count: number, customers: number, nodes: number, processes: number): Placement[][] {
  const out = Array.from({ length: processes }, (): Placement[] => []);
  for (let i = 0; i < count; i++) {
    const k = Math.floor(i / customers);
    out[Math.floor(k / nodes) % processes]!.push({ customer: i % customers, node: k % nodes });
  }
  return out;
}

export interface WatcherOptions {
  /** Every shop node's URL, the launcher's shop first; a socket's Origin is its node's URL. */
  readonly shops: readonly string[];
  readonly count: number;
  readonly fanout: number;
  /** Watcher processes the sockets are spread over (`--watcher-processes`). */
  readonly processes: number;
  /** An invoice of each customer its watchers join at once. */
  readonly firstInvoices?: ReadonlyMap<number, string>;
  /** Where bench/loop-probe.mjs writes each process's event loop (BENCH_LOOP_DIR). */
  readonly loopDir?: string;
}

const PROBE = join(projectRoot(), 'bench/loop-probe.mjs');

/** One watcher process: forks bench/push-process.ts and opens its share of the sockets. */
async function openProcess(
  o: WatcherOptions,
  customers: readonly Customer[],
  placements: readonly Placement[],
): Promise<ChildProcess> {
  const child = fork(join(projectRoot(), 'bench/push-process.ts'), [], {
    execArgv: ['--import', 'tsx', ...(o.loopDir ? ['--import', PROBE] : [])],
    env: { ...process.env, ...(o.loopDir ? { BENCH_LOOP_DIR: o.loopDir } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const first = await new Promise<Reply>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Reply));
    child.once('exit', (code) => reject(new Error(`a watcher process exited (${code}) before its sockets were open`)));
    child.send({
      type: 'open',
      shops: o.shops,
      fanout: o.fanout,
      placements,
      customers: customers.map((c) => ({
        index: c.index,
        cookie: c.browser.cookieHeader(),
        invoiceId: o.firstInvoices?.get(c.index),
      })),
    });
  });
  if (first.type !== 'opened') {
    child.kill('SIGKILL');
    throw new Error(`watchers: ${first.type === 'failed' ? first.error : JSON.stringify(first)}`);
  }
  return child;
}

/** The open-file limit of this process (the watcher processes inherit it; Node raises the soft limit to the hard one). */
export function openFilesLimit(): number {
  const line = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const hard = line?.[2];
  return hard === undefined || hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hard);
}

/** The watchers, driven from the bench process; the sockets live in child processes (bench/push-process.ts). */
export class Watchers {
  private seq = 0;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly statsWaiting = new Map<ChildProcess, (r: Reply) => void>();
  private readonly turn = new Map<number, number>();

  private constructor(
    private readonly children: readonly ChildProcess[],
    /** Per process, the customers it holds watchers of. */
    private readonly holds: ReadonlyArray<ReadonlySet<number>>,
    readonly size: number,
    private readonly shops: readonly string[],
  ) {
    for (const child of children) child.on('message', (m) => this.onMessage(child, m as Reply));
  }

  static async open(o: WatcherOptions, customers: readonly Customer[]): Promise<Watchers> {
    const plans = placeWatchers(o.count, customers.length, o.shops.length, o.processes).filter((p) => p.length);
    const limit = openFilesLimit();
    const largest = Math.max(...plans.map((p) => p.length));
    if (largest + 256 > limit)
      throw new Error(
        `${largest} watcher sockets in one process need more open files than the limit (${limit}): raise it (ulimit -n, hard limit) or use --watcher-processes ${Math.ceil(o.count / (limit - 256))}`,
      );
    const children: ChildProcess[] = [];
    try {
      // One process after the other: each paces its own opening, and the shop gets one batch at a time.
      for (const plan of plans) children.push(await openProcess(o, customers, plan));
    } catch (err) {
      for (const child of children) child.kill('SIGKILL');
      throw err;
    }
    const holds = plans.map((plan) => new Set(plan.map((p) => p.customer)));
    return new Watchers(children, holds, o.count, o.shops);
  }

  private onMessage(child: ChildProcess, r: Reply): void {
    if (r.type === 'watched') {
      this.waiting.get(r.seq)?.(r);
      this.waiting.delete(r.seq);
    } else {
      this.statsWaiting.get(child)?.(r);
      this.statsWaiting.delete(child);
    }
  }

  /** The watcher processes' pids: `watchers`, then `watchers-2`, … */
  get pids(): Record<string, number> {
    return Object.fromEntries(this.children.map((c, i) => [i ? `watchers-${i + 1}` : 'watchers', c.pid!]));
  }

  set recording(on: boolean) {
    for (const child of this.children) child.send({ type: 'record', on });
  }

  /** `fanout` of this customer's watchers (in one process, taken in turn) join the invoice's room; resolves when the hub confirmed every join. */
  async watch(customer: Customer, invoiceId: string): Promise<void> {
    const mine = this.children.filter((_, i) => this.holds[i]!.has(customer.index));
    if (!mine.length) return;
    const turn = this.turn.get(customer.index) ?? 0;
    this.turn.set(customer.index, turn + 1);
    const child = mine[turn % mine.length]!;
    const seq = ++this.seq;
    const r = await new Promise<Reply>((resolve) => {
      this.waiting.set(seq, resolve);
      child.send({ type: 'watch', seq, customer: customer.index, invoiceId });
    });
    if (r.type === 'watched' && r.error) throw new Error(r.error);
  }

  async result(shopDatabaseUrl: string): Promise<PushResult> {
    const all = await Promise.all(
      this.children.map(
        (child) =>
          new Promise<Reply>((resolve) => {
            this.statsWaiting.set(child, resolve);
            child.send({ type: 'stats' });
          }),
      ),
    );
    const stats = all.map((r) => {
      if (r.type !== 'stats') throw new Error(`watchers: ${JSON.stringify(r)}`);
      return r.stats;
    });
    return pushResult(mergeStats(stats), shopDatabaseUrl, this.shops);
  }

  close(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
