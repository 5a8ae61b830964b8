// Issue 7, item 4: push latency with 1,000 WebSocket watchers on invoices while the flow runs (issue
// 19: 10,000 over 3 shop nodes).
//
// Every watcher is a socket of one of the virtual customers, opened with that customer's
// `shop_session` cookie and, as Origin, the URL of the shop node it connects to (an invoice page
// loaded from that node: the shop's room authoriser refuses an Origin whose host is not the socket's
// own), exactly like the invoice page's socket; the shop's hub authorises each join (`invoice:<id>`
// of the owner) the same way. Watchers are dealt round-robin to the customers, and each customer's in
// turn to the shop nodes (`--shop-nodes`: processes on one database, whose hubs fan out through
// LISTEN/NOTIFY). Whenever a customer's "Pay now" issues an invoice, `fanout` of that customer's
// watchers join its room (leaving their oldest room when they hold the hub's per-socket maximum), so
// all watchers stay open on invoices and the newest invoices have live watchers. Each watcher joins
// one invoice of its customer as soon as it connects (every customer has paid one order by then).
//
// The sockets live in their own processes (bench/push-process.ts, driven by bench/push-watchers.ts;
// several with `--watcher-processes`, each a share of every customer's watchers), so that the
// customers' work in the bench process does not delay the stamping of arrivals.
//
// Latency = when the frame arrives here − when the change committed on the server: the commit
// timestamp of the message's row when the cluster tracks commit timestamps (`track_commit_timestamp`,
// which `npm run bench` turns on in its own cluster), else the row's `created_at` (taken in the same
// transaction, just before the commit: then the figure includes the rest of the commit, so it is an
// upper bound). Both clocks are this machine's.
import pg from 'pg';
import { WebSocket } from 'ws';
import { idle, summarize, type Summary } from './stats.ts';

const ROOMS_PER_SOCKET = 20; // the hub's default limit

/** What the watcher process knows of a customer: its index and its session cookie. */
export interface WatcherCustomer {
  readonly index: number;
  readonly cookie: string;
  /** An invoice of this customer each of its watchers joins at once, so that every watcher is on an invoice from the start. */
  readonly invoiceId?: string;
}

/** Where one watcher goes: its customer (by index) and its shop node (an index into the nodes' URLs). */
export interface Placement {
  readonly customer: number;
  readonly node: number;
}

interface Watcher {
  readonly ws: WebSocket;
  readonly node: number;
  readonly customer: WatcherCustomer;
  readonly rooms: string[];
  readonly joining: Map<string, { resolve: () => void; reject: (e: Error) => void }>;
}

export interface PushResult {
  readonly watchers: number;
  /** Watchers holding at least one invoice room at the end, and the rooms they hold in all. */
  readonly watching: number;
  readonly rooms: number;
  readonly fanout: number;
  /** Sockets that closed while the run was going. */
  readonly dropped: number;
  readonly joinsRefused: number;
  readonly messages: number;
  readonly latency: Summary;
  /** Where the commit time came from. */
  readonly commitTimeSource: 'commit_timestamp' | 'created_at' | 'none';
  /** Per shop node (in the order of `--shop-nodes`: the launcher's shop first): its watchers and what they received. */
  readonly byNode: ReadonlyArray<{
    /** `shop` (the launcher's), `shop-2`, … */
    readonly node: string;
    readonly url: string;
    readonly watchers: number;
    readonly messages: number;
    readonly latency: Summary;
  }>;
}

const epochMs = () => performance.timeOrigin + performance.now();

/** The sockets themselves (in the watcher process). */
export class SocketWatchers {
  private readonly all: Watcher[] = [];
  private readonly byCustomer = new Map<number, Watcher[]>();
  private readonly next = new Map<number, number>();
  readonly received: Array<{ id: string; at: number; node: number }> = [];
  recording = false;
  dropped = 0;
  joinsRefused = 0;
  private closing = false;

  private constructor(
    readonly fanout: number,
    private readonly nodes: number,
  ) {}

  /**
   * Opens one socket per placement, 50 at a time (each open and its first join confirmed before the
   * next batch), so that the upgrades and their authorisations do not all queue at the shop at once.
   */
  static async open(
    shops: readonly string[],
    customers: readonly WatcherCustomer[],
    placements: readonly Placement[],
    fanout: number,
  ): Promise<SocketWatchers> {
    const w = new SocketWatchers(fanout, shops.length);
    const byIndex = new Map(customers.map((c) => [c.index, c]));
    for (let i = 0; i < placements.length; i += 50) {
      await Promise.all(
        placements.slice(i, i + 50).map((p) => w.connect(shops[p.node]!, p.node, byIndex.get(p.customer)!)),
      );
    }
    return w;
  }

  get size(): number {
    return this.all.length;
  }

  private async connect(shop: string, node: number, customer: WatcherCustomer): Promise<void> {
    const ws = new WebSocket(`${shop.replace(/^http/, 'ws')}/ws`, {
      headers: { cookie: customer.cookie, origin: shop },
      perMessageDeflate: false,
    });
    const watcher: Watcher = { ws, node, customer, rooms: [], joining: new Map() };
    ws.on('message', (data) => {
      const at = epochMs();
      const frame = JSON.parse(String(data)) as {
        type: string;
        room?: string;
        id?: string;
        code?: string;
        message?: string;
      };
      if (frame.type === 'message' && frame.id) {
        if (this.recording) this.received.push({ id: frame.id, at, node });
      } else if (frame.type === 'joined' && frame.room) {
        watcher.joining.get(frame.room)?.resolve();
        watcher.joining.delete(frame.room);
      } else if (frame.type === 'error' && frame.room) {
        this.joinsRefused++;
        watcher.joining
          .get(frame.room)
          ?.reject(new Error(`watcher join ${frame.room}: ${frame.code} ${frame.message}`));
        watcher.joining.delete(frame.room);
      }
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (!this.closing) this.dropped++;
    });
    this.all.push(watcher);
    if (customer.invoiceId) {
      const room = `invoice:${customer.invoiceId}`;
      watcher.rooms.push(room);
      await new Promise<void>((resolve, reject) => {
        watcher.joining.set(room, { resolve, reject });
        ws.send(JSON.stringify({ type: 'join', room }));
      });
    }
    const list = this.byCustomer.get(customer.index) ?? [];
    list.push(watcher);
    this.byCustomer.set(customer.index, list);
  }

  /** `fanout` of this customer's watchers join the invoice's room; resolves when the hub confirmed every join. */
  async watch(customerIndex: number, invoiceId: string): Promise<void> {
    const list = this.byCustomer.get(customerIndex);
    if (!list?.length) return;
    const room = `invoice:${invoiceId}`;
    const joins: Promise<void>[] = [];
    for (let k = 0; k < Math.min(this.fanout, list.length); k++) {
      const i = this.next.get(customerIndex) ?? 0;
      this.next.set(customerIndex, (i + 1) % list.length);
      const w = list[i]!;
      if (w.ws.readyState !== WebSocket.OPEN) continue;
      if (w.rooms.length >= ROOMS_PER_SOCKET) w.ws.send(JSON.stringify({ type: 'leave', room: w.rooms.shift() }));
      w.rooms.push(room);
      joins.push(
        new Promise<void>((resolve, reject) => {
          w.joining.set(room, { resolve, reject });
          w.ws.send(JSON.stringify({ type: 'join', room }));
        }),
      );
    }
    await Promise.race([
      Promise.all(joins),
      idle(10_000).then(() => Promise.reject(new Error(`watchers of ${room} not joined within 10 s`))),
    ]);
  }

  close(): void {
    this.closing = true;
    for (const w of this.all) w.ws.terminate();
  }

  stats(): WatcherStats {
    const watching = this.all.filter((w) => w.rooms.length > 0).length;
    const rooms = this.all.reduce((n, w) => n + w.rooms.length, 0);
    const perNode = Array.from({ length: this.nodes }, () => 0);
    for (const w of this.all) perNode[w.node]!++;
    return {
      watchers: this.all.length,
      watching,
      rooms,
      fanout: this.fanout,
      dropped: this.dropped,
      joinsRefused: this.joinsRefused,
      received: this.received,
      perNode,
    };
  }
}

export interface WatcherStats {
  readonly watchers: number;
  /** Watchers holding at least one invoice room at the end, and the rooms they hold in all. */
  readonly watching: number;
  readonly rooms: number;
  readonly fanout: number;
  readonly dropped: number;
  readonly joinsRefused: number;
  readonly received: ReadonlyArray<{ id: string; at: number; node: number }>;
  /** Watchers on each shop node. */
  readonly perNode: readonly number[];
}

/** The stats of several watcher processes as one. */
export function mergeStats(all: readonly WatcherStats[]): WatcherStats {
  const sum = (f: (s: WatcherStats) => number) => all.reduce((n, s) => n + f(s), 0);
  return {
    watchers: sum((s) => s.watchers),
    watching: sum((s) => s.watching),
    rooms: sum((s) => s.rooms),
    fanout: all[0]!.fanout,
    dropped: sum((s) => s.dropped),
    joinsRefused: sum((s) => s.joinsRefused),
    received: all.flatMap((s) => s.received),
    perNode: all[0]!.perNode.map((_, i) => all.reduce((n, s) => n + s.perNode[i]!, 0)),
  };
}

/** Matches the received frames with their rows in the shop's database and summarises the latency. */
export async function pushResult(
  w: WatcherStats,
  shopDatabaseUrl: string,
  shops: readonly string[],
): Promise<PushResult> {
  const ids = [...new Set(w.received.map((r) => r.id))];
  const commitMs = new Map<string, number>();
  let source: PushResult['commitTimeSource'] = 'none';
  if (ids.length) {
    const client = new pg.Client({ connectionString: shopDatabaseUrl });
    await client.connect();
    try {
      const tracked = (
        await client.query<{ on: boolean }>(`select current_setting('track_commit_timestamp') = 'on' as on`)
      ).rows[0]!.on;
      source = tracked ? 'commit_timestamp' : 'created_at';
      const res = await client.query<{ id: string; ms: string }>(
        tracked
          ? `select id::text, extract(epoch from coalesce(pg_xact_commit_timestamp(xmin), created_at)) * 1000 as ms from realtime_messages where id = any($1::bigint[])`
          : `select id::text, extract(epoch from created_at) * 1000 as ms from realtime_messages where id = any($1::bigint[])`,
        [ids],
      );
      for (const row of res.rows) commitMs.set(row.id, Number(row.ms));
    } finally {
      await client.end();
    }
  }
  const samples: number[] = [];
  const nodeSamples = shops.map((): number[] => []);
  for (const r of w.received) {
    const c = commitMs.get(r.id);
    if (c === undefined) continue;
    samples.push(r.at - c);
    nodeSamples[r.node]?.push(r.at - c);
  }
  return {
    watchers: w.watchers,
    watching: w.watching,
    rooms: w.rooms,
    fanout: w.fanout,
    dropped: w.dropped,
    joinsRefused: w.joinsRefused,
    messages: samples.length,
    latency: summarize(samples),
    commitTimeSource: source,
    byNode: shops.map((url, i) => ({
      node: i ? `shop-${i + 1}` : 'shop',
      url,
      watchers: w.perNode[i] ?? 0,
      messages: nodeSamples[i]!.length,
      latency: summarize(nodeSamples[i]!),
    })),
  };
}
