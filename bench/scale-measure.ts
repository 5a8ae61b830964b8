// `npm run bench -- --scale`: what is measured at each size, as users and operators meet it — pages
// over real HTTP (the heavy customer's, the staff console's lists, their searches and a deep keyset
// page, the invoice page), the operator's commands as they run them (`countersign reconcile`,
// `countersign audit verify`, `countersign ledger verify`), the merchant's event feed from the start,
// and the databases' bytes on disk.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { Browser } from './flow.ts';
import { summarize } from './stats.ts';
import { PARTIES, type PerParty } from './system.ts';
import { projectRoot } from '../src/platform/project-root.ts';

const ROOT = projectRoot();
const PASSWORD = 'bench-customer-password';

export interface PageTiming {
  readonly label: string;
  readonly path: string;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Table rows on the page (`<tr` count), to show it is a full page. */
  readonly rows: number;
}

export async function login(shop: string, email: string, password = PASSWORD): Promise<Browser> {
  const b = new Browser(shop);
  await b.page('/login');
  await b.page('/login', { form: { email, password } });
  if (!b.cookies.has('shop_session')) throw new Error(`login of ${email} set no session cookie`);
  return b;
}

/** The page's "Older →" link (keyset: `before=` a row's key), if any. */
const olderLink = (html: string) => /<a href="([^"]+)" rel="next"/.exec(html)?.[1]?.replace(/&amp;/g, '&');

/** GETs `path` `samples` times (after two warm-up loads) and summarises the latencies. */
export async function timePage(b: Browser, label: string, path: string, samples: number): Promise<PageTiming> {
  let html = '';
  const w0 = performance.now();
  for (let i = 0; i < 2; i++) html = (await b.page(path)).html;
  // A page that takes seconds is a finding already: a few samples tell its figure.
  const n = performance.now() - w0 > 2000 ? Math.min(samples, 5) : samples;
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await b.page(path);
    ms.push(performance.now() - t0);
  }
  const s = summarize(ms);
  return { label, path, samples: n, p50Ms: s.p50Ms, p99Ms: s.p99Ms, rows: (html.match(/<tr[\s>]/g) ?? []).length };
}

/** The path `hops` "Older" pages down from `path` (null when the list ends sooner). */
export async function deepPath(b: Browser, path: string, hops: number): Promise<string | null> {
  let at = path;
  for (let i = 0; i < hops; i++) {
    const next = olderLink((await b.page(at)).html);
    if (!next) return null;
    at = next;
  }
  return at;
}

export interface PageIds {
  readonly heavyEmail: string;
  readonly invoiceId: string;
  readonly orderId: string;
  readonly orderNumber: string;
  readonly sessionId: string;
}

/** Every page measured: the heavy customer's, then the staff console's lists, searches and deep pages. */
export async function measurePages(
  shop: string,
  ids: PageIds,
  samples: number,
  progress: (l: string) => void,
): Promise<PageTiming[]> {
  const out: PageTiming[] = [];
  const customer = await login(shop, ids.heavyEmail);
  out.push(await timePage(customer, 'customer: my orders', '/orders', samples));
  out.push(await timePage(customer, 'customer: invoice page', `/invoices/${ids.invoiceId}`, samples));
  out.push(await timePage(customer, 'customer: order page', `/orders/${ids.orderId}`, samples));
  const staff = await login(shop, 'staff@shop.test', 'demo-staff-password');
  const lists: Array<[string, string]> = [
    ['orders', '/staff/orders'],
    ['invoices', '/staff/invoices'],
    ['attempts', '/staff/payments/attempts'],
    ['webhook receipts', '/staff/payments/webhooks'],
    ['refunds', '/staff/refunds'],
    ['disputes', '/staff/disputes'],
    ['customers', '/staff/customers'],
  ];
  const email = encodeURIComponent(ids.heavyEmail);
  const searches: Array<[string, string]> = [
    ['orders ?q=email', `/staff/orders?q=${email}`],
    ['orders ?q=#number', `/staff/orders?q=${encodeURIComponent(`#${ids.orderNumber}`)}`],
    ['orders ?status=paid', '/staff/orders?status=paid'],
    ['orders ?status=awaiting_payment (rare)', '/staff/orders?status=awaiting_payment'],
    ['invoices ?status=open (rare)', '/staff/invoices?status=open'],
    ['attempts ?status=pending (rare)', '/staff/payments/attempts?status=pending'],
    ['invoices ?q=invoice id', `/staff/invoices?q=${ids.invoiceId}`],
    ['attempts ?q=session id', `/staff/payments/attempts?q=${ids.sessionId}`],
    ['customers ?q=email', `/staff/customers?q=${email}`],
    ['webhook receipts ?q=invoice id', `/staff/payments/webhooks?q=${ids.invoiceId}`],
    ['console front page (counts)', '/staff'],
    ['order page', `/staff/orders/${ids.orderId}`],
  ];
  for (const [name, path] of [...lists, ...searches]) {
    out.push(await timePage(staff, `staff: ${name}`, path, samples));
    progress(`    ${out.at(-1)!.label}: p50 ${out.at(-1)!.p50Ms} ms, p99 ${out.at(-1)!.p99Ms} ms`);
  }
  for (const [name, path] of lists.slice(0, 4)) {
    const deep = await deepPath(staff, path, 5);
    if (deep) out.push(await timePage(staff, `staff: ${name}, 6th page (keyset)`, deep, samples));
  }
  return out;
}

export interface CommandRun {
  readonly exitCode: number | null;
  readonly seconds: number;
  /** Peak resident memory of the command's process (/usr/bin/time's maximum RSS), MB. */
  readonly peakRssMb: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `countersign …args` as an operator does (the bin), timed, with its peak RSS. */
export function countersign(args: string[], env: Record<string, string>): Promise<CommandRun> {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, 'bin/countersign.mjs', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (exitCode) => {
      const kb = /MAXRSS_KB=(\d+)/.exec(stderr)?.[1];
      done({
        exitCode,
        seconds: (performance.now() - t0) / 1000,
        peakRssMb: kb ? Math.round(Number(kb) / 102.4) / 10 : null,
        stdout,
        stderr: stderr.replace(/MAXRSS_KB=\d+\s*/, ''),
      });
    });
  });
}

/** GET /v1/events from the start with the merchant's key, 100 a page, until caught up or `maxSeconds`. */
export async function feedCatchUp(
  gateway: string,
  apiKey: string,
  maxSeconds: number,
): Promise<{ events: number; seconds: number; perSecond: number; complete: boolean }> {
  let after = '0';
  let events = 0;
  const t0 = performance.now();
  for (;;) {
    const res = await fetch(`${gateway}/v1/events?after=${after}&limit=100`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (!res.ok) throw new Error(`GET /v1/events: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { data: unknown[]; next_cursor: string; has_more: boolean };
    events += page.data.length;
    after = page.next_cursor;
    const seconds = (performance.now() - t0) / 1000;
    if (!page.has_more || seconds > maxSeconds)
      return { events, seconds, perSecond: Math.round(events / seconds), complete: !page.has_more };
  }
}

export interface DiskUse {
  readonly bytes: PerParty<number>;
  readonly topTables: PerParty<Array<{ table: string; bytes: number }>>;
}

/** Each party's database size and its largest tables (indexes and TOAST included). */
export async function diskUse(adminUrl: string, names: PerParty<string>, urls: PerParty<string>): Promise<DiskUse> {
  const bytes = {} as PerParty<number>;
  const topTables = {} as PerParty<Array<{ table: string; bytes: number }>>;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const p of PARTIES) {
      const r = await admin.query<{ b: string }>('select pg_database_size($1)::text b', [names[p]]);
      bytes[p] = Number(r.rows[0]!.b);
      const c = new pg.Client({ connectionString: urls[p] });
      await c.connect();
      const t = await c.query<{ t: string; b: string }>(
        `select relname t, pg_total_relation_size(relid)::text b from pg_stat_user_tables order by pg_total_relation_size(relid) desc limit 6`,
      );
      topTables[p] = t.rows.map((x) => ({ table: x.t, bytes: Number(x.b) }));
      await c.end();
    }
  } finally {
    await admin.end();
  }
  return { bytes, topTables };
}

/** pg_stat_statements of one database now: per statement, calls, rows and total time. */
export async function statementTotals(
  adminUrl: string,
  database: string,
): Promise<Map<string, { calls: number; rows: number; ms: number; query: string }>> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query<{ k: string; calls: string; rows: string; ms: number; query: string }>(
      `select s.queryid::text k, s.calls::text, s.rows::text, s.total_exec_time ms, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 200) query
         from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1`,
      [database],
    );
    return new Map(
      r.rows.map((x) => [x.k, { calls: Number(x.calls), rows: Number(x.rows), ms: x.ms, query: x.query }]),
    );
  } finally {
    await c.end();
  }
}

/** What ran between two `statementTotals`: statements, and the costliest few (ms, calls, rows). */
export function statementDelta(
  a: Map<string, { calls: number; rows: number; ms: number; query: string }>,
  b: Map<string, { calls: number; rows: number; ms: number; query: string }>,
): { statements: number; top: Array<{ calls: number; rows: number; ms: number; query: string }> } {
  const diffs = [...b].map(([k, v]) => {
    const o = a.get(k);
    return { calls: v.calls - (o?.calls ?? 0), rows: v.rows - (o?.rows ?? 0), ms: v.ms - (o?.ms ?? 0), query: v.query };
  });
  const ran = diffs.filter((d) => d.calls > 0);
  return {
    statements: ran.reduce((s, d) => s + d.calls, 0),
    top: ran
      .sort((x, y) => y.ms - x.ms)
      .slice(0, 5)
      .map((d) => ({ ...d, ms: Math.round(d.ms * 10) / 10 })),
  };
}
