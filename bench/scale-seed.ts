// `npm run bench -- --scale`: the seeding. One real paid order goes through the running system (the
// template: every row it leaves in the shop's, the gateway's and the bank's databases), then the system
// stops and that order is cloned N times in SQL (`INSERT … SELECT … generate_series`), table by table,
// with fresh ids, so that every clone is what another customer's paid order would have left:
//
// - ids: every id the template created (primary keys and unique values of its new rows, in all three
//   databases) is rewritten wherever it appears — columns, JSON payloads, ids derived from it
//   (`capture_<auth>`) — the same way in every database, so cross-references and the three-way match
//   hold. A ULID-shaped id keeps its prefix, its time part and its last 8 characters; the 8 before them
//   become the clone's number (still a well-formed id, unique, in clone order).
// - the customer: clone n belongs to the heavy customer (the template's) when n % 100 = 0, otherwise to
//   one of N/20 cloned customers.
// - times: every timestamp of clone n is the template's minus (OFFSET − n) seconds (clones are older than
//   the template, newer with n); sequences (order numbers, the event feed's cursor) are drawn afresh.
// - the audit log is cloned in Node, entry by entry, with a valid hash chain (`seedAudit`).
// - the books: both ledgers' account totals are recomputed from their transfers; the bank's cardholder
//   account gets its opening balance raised by what the clones spend (as `ledger verify` checks).
// - the shop's feed cursor is moved to the gateway's last event (the clones' events are old news).
import pg from 'pg';
import { CHAIN_VERSION, GENESIS, sealedHash } from '../src/shop/storage/audit.ts';
import { PARTIES, type Party, type PerParty } from './system.ts';

/** Seconds between the template and clone 0; clone n is (OFFSET − n) s older than the template. */
const OFFSET_S = 1_100_000;
/** Tables never cloned: work queues, push messages, login state, ledger accounts, and the audit log (cloned in Node). */
const SKIP = new Set([
  'jobs',
  'realtime_messages',
  'login_sessions',
  'login_failures',
  'dashboard_sessions',
  'dashboard_login_failures',
  'bank_sessions',
  'audit_log',
  '__drizzle_migrations',
  // A merchant's ledger accounts open at its first payment: shared by every clone, totals recomputed.
  'ledger_accounts',
  'bank_ledger_accounts',
]);
const ULID = /^([a-z]+_[0-7][0-9A-HJKMNP-TV-Z]{9})([0-9A-HJKMNP-TV-Z]{8})([0-9A-HJKMNP-TV-Z]{8})$/;

interface Column {
  name: string;
  type: string;
  serial: boolean;
}
interface TableInfo {
  name: string;
  columns: Column[];
  pk: string[];
  unique: Set<string>;
  /** Tables this one references (foreign keys): cloned first. */
  parents: Set<string>;
}
export interface Template {
  /** Per party: table → the template's new rows' primary keys (as `row(pk)::text`). */
  rows: PerParty<Map<string, string[]>>;
  tables: PerParty<Map<string, TableInfo>>;
  /** Ids to rewrite, longest first. */
  ids: string[];
  /** The heavy customer's user id (the template's owner) and its users row key. */
  customerId: string;
  /** Template audit entries (columns as read), in chain order. */
  audit: Array<Record<string, unknown>>;
  /** Bank: what one clone debits per cardholder ledger account (posted + pending). */
  bankDebits: Map<string, bigint>;
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function tablesOf(c: pg.Client): Promise<Map<string, TableInfo>> {
  const cols = await c.query<{ t: string; c: string; type: string; def: string | null; ident: string; gen: string }>(
    `select table_name t, column_name c, data_type type, column_default def, is_identity ident, is_generated gen
       from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
  );
  const pks = await c.query<{ t: string; c: string }>(
    `select t.relname t, a.attname c from pg_index i join pg_class t on t.oid = i.indrelid
       join pg_namespace s on s.oid = t.relnamespace join pg_attribute a on a.attrelid = t.oid and a.attnum = any(i.indkey)
      where s.nspname = 'public' and i.indisprimary order by t.relname, array_position(i.indkey::int2[], a.attnum)`,
  );
  const uniq = await c.query<{ t: string; c: string }>(
    `select t.relname t, a.attname c from pg_index i join pg_class t on t.oid = i.indrelid
       join pg_namespace s on s.oid = t.relnamespace join pg_attribute a on a.attrelid = t.oid and a.attnum = any(i.indkey)
      where s.nspname = 'public' and i.indisunique`,
  );
  const fks = await c.query<{ t: string; p: string }>(
    `select c.conrelid::regclass::text t, c.confrelid::regclass::text p from pg_constraint c
       join pg_namespace s on s.oid = c.connamespace where s.nspname = 'public' and c.contype = 'f'`,
  );
  const out = new Map<string, TableInfo>();
  for (const r of cols.rows) {
    if (!out.has(r.t)) out.set(r.t, { name: r.t, columns: [], pk: [], unique: new Set(), parents: new Set() });
    out.get(r.t)!.columns.push({
      name: r.c,
      type: r.type,
      serial: (r.def ?? '').startsWith('nextval(') || r.ident === 'YES' || r.gen === 'ALWAYS',
    });
  }
  for (const r of pks.rows) out.get(r.t)?.pk.push(r.c);
  for (const r of uniq.rows) out.get(r.t)?.unique.add(r.c);
  for (const r of fks.rows) if (r.t !== r.p) out.get(r.t.replace(/"/g, ''))?.parents.add(r.p.replace(/"/g, ''));
  return out;
}

const keyExpr = (t: TableInfo) => `row(${t.pk.map((c) => `t.${q(c)}`).join(', ')})::text`;

/** Every table's primary keys now (taken before the template order). */
export async function snapshotKeys(clients: PerParty<pg.Client>): Promise<PerParty<Map<string, Set<string>>>> {
  const out = {} as PerParty<Map<string, Set<string>>>;
  for (const p of PARTIES) {
    out[p] = new Map();
    for (const t of (await tablesOf(clients[p])).values()) {
      if (SKIP.has(t.name) || t.pk.length === 0) continue;
      const r = await clients[p].query<{ k: string }>(`select ${keyExpr(t)} k from ${q(t.name)} t`);
      out[p].set(t.name, new Set(r.rows.map((x) => x.k)));
    }
  }
  return out;
}

/** The template: the rows the order added since `before`, and the ids to rewrite. */
export async function readTemplate(
  clients: PerParty<pg.Client>,
  before: PerParty<Map<string, Set<string>>>,
  customerId: string,
  auditAfterSeq: number,
): Promise<Template> {
  const rows = {} as PerParty<Map<string, string[]>>;
  const tables = {} as PerParty<Map<string, TableInfo>>;
  const ids = new Set<string>();
  const existing = new Set<string>();
  // A cart still open is the customer's current one (one per customer): not part of a paid order.
  const openCarts = new Set(
    (await clients.shop.query<{ id: string }>(`select id from carts where status = 'open'`)).rows.map((r) => r.id),
  );
  const current = (name: string, j: Record<string, unknown>) =>
    (name === 'carts' && openCarts.has(String(j.id))) || (name === 'cart_lines' && openCarts.has(String(j.cart_id)));
  for (const p of PARTIES) {
    rows[p] = new Map();
    tables[p] = await tablesOf(clients[p]);
    for (const keys of before[p].values()) for (const k of keys) existing.add(k.replace(/^\(|\)$/g, ''));
    for (const [name, keys] of before[p]) {
      const t = tables[p].get(name)!;
      const r = await clients[p].query<{ k: string; j: Record<string, unknown> }>(
        `select ${keyExpr(t)} k, to_jsonb(t) j from ${q(name)} t`,
      );
      const fresh = r.rows.filter((x) => !keys.has(x.k) && !(p === 'shop' && current(name, x.j)));
      if (fresh.length === 0) continue;
      rows[p].set(
        name,
        fresh.map((x) => x.k),
      );
      for (const x of fresh)
        for (const c of [...t.pk, ...t.unique]) {
          const v = x.j[c];
          if (typeof v === 'string' && (ULID.test(v) || v.length >= 16)) ids.add(v);
        }
    }
  }
  const audit = (
    await clients.shop.query<Record<string, unknown>>(`select * from audit_log where seq > $1 order by seq`, [
      auditAfterSeq,
    ])
  ).rows;
  for (const e of audit) ids.add(String(e.id));
  for (const e of existing) ids.delete(e);
  ids.delete(customerId);
  // A value derived from an id (`capture_<authorisation>`) is rewritten through that id, not suffixed.
  const ulids = [...ids].filter((v) => ULID.test(v));
  for (const v of [...ids]) if (!ULID.test(v) && ulids.some((u) => v.includes(u))) ids.delete(v);
  const bankDebits = new Map<string, bigint>();
  const bt = rows.bank.get('bank_ledger_transfers') ?? [];
  if (bt.length) {
    const r = await clients.bank.query<{ acct: string; amount: string }>(
      `select debit_account_id acct, sum(amount_minor)::text amount from bank_ledger_transfers t
        where ${keyExpr(tables.bank.get('bank_ledger_transfers')!)} = any($1) and phase in ('single', 'post', 'pending')
          and debit_account_id like 'cardholder:%' group by 1`,
      [bt],
    );
    for (const x of r.rows) bankDebits.set(x.acct, BigInt(x.amount));
  }
  return {
    rows,
    tables,
    ids: [...ids].sort((a, b) => b.length - a.length),
    customerId,
    audit,
    bankDebits,
  };
}

/** SQL for id `id` in clone `n` (`v.s` is n as 8 digits, `v.cu` the clone's customer id). */
function replacement(id: string, customerId: string): string {
  if (id === customerId) return 'v.cu';
  const m = ULID.exec(id);
  return m ? `${lit(m[1]!)} || v.s || ${lit(m[3]!)}` : `${lit(id)} || 'x' || v.s`;
}

/** The same rewrite in Node (the audit log), of the ids `present` in `text` (longest first). */
export function rewrite(text: string, present: readonly string[], t: Template, n: number, customer: string): string {
  let out = text;
  const s = String(n).padStart(8, '0');
  for (const id of present) {
    const m = ULID.exec(id);
    const to = id === t.customerId ? customer : m ? `${m[1]!}${s}${m[3]!}` : `${id}x${s}`;
    out = out.split(id).join(to);
  }
  return out;
}

/** Clone n's customer: the heavy one for n % 100 = 0, else one of `customers` clones of it (as customerSql). */
export function customerOf(t: Template, n: number, customers: number): string {
  if (n % 100 === 0) return t.customerId;
  const m = ULID.exec(t.customerId)!;
  return `${m[1]!}${String(1 + ((n * 7919) % customers)).padStart(8, '0')}${m[3]!}`;
}

const customerSql = (t: Template, customers: number) => {
  const m = ULID.exec(t.customerId)!;
  return `case when n % 100 = 0 then ${lit(t.customerId)} else ${lit(m[1]!)} || lpad((1 + (n::bigint * 7919) % ${customers})::text, 8, '0') || ${lit(m[3]!)} end`;
};

/**
 * The statement that clones one table's template rows for n in [$1, $2]: the template rows are copied
 * once into a temporary table (a chunk reads them, not the whole growing table), and each column's
 * expression rewrites only the ids that column holds.
 */
async function cloneStatement(c: pg.Client, t: TableInfo, keys: string[], tpl: Template, customers: number) {
  const temp = q(`tpl_${t.name}`);
  await c.query(`drop table if exists ${temp}`);
  await c.query(`create temp table ${temp} as select * from ${q(t.name)} limit 0`);
  await c.query(`insert into ${temp} select * from ${q(t.name)} t where ${keyExpr(t)} = any($1)`, [keys]);
  const sample = await c.query<{ j: Record<string, unknown> }>(`select to_jsonb(t) j from ${temp} t`);
  const cols = t.columns.filter((col) => !col.serial);
  const exprs = cols.map((col) => {
    const ref = `t.${q(col.name)}`;
    if (col.type.startsWith('timestamp')) return `${ref} - make_interval(secs => ${OFFSET_S} - n)`;
    const isText = col.type === 'text' || col.type === 'character varying';
    const isJson = col.type === 'jsonb' || col.type === 'json';
    if (!isText && !isJson) return ref;
    const values = sample.rows.map((r) => JSON.stringify(r.j[col.name] ?? null));
    const present = [...tpl.ids, tpl.customerId]
      .sort((a, b) => b.length - a.length)
      .filter((id) => values.some((v) => v.includes(id)));
    if (present.length === 0) return ref;
    let e = isJson ? `${ref}::text` : ref;
    for (const id of present) e = `replace(${e}, ${lit(id)}, ${replacement(id, tpl.customerId)})`;
    return isJson ? `(${e})::${col.type}` : e;
  });
  const order = t.pk.map((k) => `t.${q(k)}`).join(', ');
  return `insert into ${q(t.name)} (${cols.map((col) => q(col.name)).join(', ')})
     select ${exprs.join(', ')}
       from ${temp} t
       cross join generate_series($1::int, $2::int) n
       cross join lateral (select lpad(n::text, 8, '0') as s, ${customerSql(tpl, customers)} as cu) v
      order by n, ${order}`;
}

/** Customers `from..to` (clones of the heavy customer's users row; the same password). */
async function seedCustomers(c: pg.Client, tpl: Template, from: number, to: number): Promise<void> {
  if (to < from) return;
  const users = tpl.tables.shop.get('users')!;
  const m = ULID.exec(tpl.customerId)!;
  const cols = users.columns.filter((col) => !col.serial);
  const exprs = cols.map((col) => {
    const ref = `t.${q(col.name)}`;
    if (col.name === 'id') return `${lit(m[1]!)} || lpad(n::text, 8, '0') || ${lit(m[3]!)}`;
    if (col.name === 'email') return `'scale-' || n || '@shop.test'`;
    if (col.name === 'name') return `'Scale customer ' || n`;
    if (col.type.startsWith('timestamp')) return `${ref} - make_interval(secs => ${OFFSET_S + 1000} - n)`;
    return ref;
  });
  await c.query(
    `insert into users (${cols.map((col) => q(col.name)).join(', ')})
     select ${exprs.join(', ')} from users t cross join generate_series($2::int, $3::int) n where t.id = $1`,
    [tpl.customerId, from, to],
  );
}

/**
 * The audit log's entries of clones from..to, chained from the tip, inserted in chunks. The one place
 * that knows how an entry is sealed (sealedHash over its position and the previous hash), so a change of that scheme
 * changes this function only.
 */
export async function seedAudit(c: pg.Client, tpl: Template, from: number, to: number, customers: number) {
  if (tpl.audit.length === 0) return 0;
  // Inserted sealed, as the sealer would seal them, after the sealed tip (the system is stopped, so
  // no sealer runs and every entry of the template is sealed already).
  const tip = await c.query<{ pos: string; hash: string }>('select pos::text as pos, hash from audit_chain_tip');
  let prev = tip.rows[0]?.hash ?? GENESIS;
  let pos = Number(tip.rows[0]?.pos ?? 0);
  let written = 0;
  const batch = 2000;
  const all = [...tpl.ids, tpl.customerId].sort((x, y) => y.length - x.length);
  const fields = tpl.audit.map((e) => {
    const text = {
      id: String(e.id),
      actor: String(e.actor),
      subject: String(e.subject),
      data: JSON.stringify(e.data ?? {}),
    };
    const present = (v: string) => all.filter((id) => v.includes(id));
    return {
      e,
      text,
      ids: {
        id: present(text.id),
        actor: present(text.actor),
        subject: present(text.subject),
        data: present(text.data),
      },
    };
  });
  for (let a = from; a <= to; a += batch) {
    const b = Math.min(to, a + batch - 1);
    const cols = { id: [] as string[], at: [] as string[], actor: [] as string[], action: [] as string[] };
    const more = { subject: [] as string[], data: [] as string[], prev: [] as string[], hash: [] as string[] };
    const positions: number[] = [];
    for (let n = a; n <= b; n++) {
      const cu = customerOf(tpl, n, customers);
      for (const { e, text, ids } of fields) {
        const entry = {
          id: rewrite(text.id, ids.id, tpl, n, cu),
          at: new Date((e.at as Date).getTime() - (OFFSET_S - n) * 1000),
          actor: rewrite(text.actor, ids.actor, tpl, n, cu),
          action: String(e.action),
          subject: rewrite(text.subject, ids.subject, tpl, n, cu),
          data: JSON.parse(rewrite(text.data, ids.data, tpl, n, cu)) as unknown,
        };
        pos += 1;
        const hash = sealedHash(prev, pos, entry);
        positions.push(pos);
        cols.id.push(entry.id);
        cols.at.push(entry.at.toISOString());
        cols.actor.push(entry.actor);
        cols.action.push(entry.action);
        more.subject.push(entry.subject);
        more.data.push(JSON.stringify(entry.data));
        more.prev.push(prev);
        more.hash.push(hash);
        prev = hash;
      }
    }
    await c.query(
      `insert into audit_log (id, at, actor, action, subject, data, prev_hash, hash, chain_pos, chain_version)
       select id, at, actor, action, subject, data::jsonb, p, h, pos, ${CHAIN_VERSION}
         from unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
           with ordinality as x(id, at, actor, action, subject, data, p, h, pos, o) order by o`,
      [cols.id, cols.at, cols.actor, cols.action, more.subject, more.data, more.prev, more.hash, positions],
    );
    written += cols.id.length;
  }
  // Where the sealer will go on from.
  await c.query('update audit_chain_tip set pos = $1, hash = $2', [pos, prev]);
  return written;
}

/** Ledger account totals as the transfers give them (the `balance_mismatch` check's own derivation). */
function recomputeLedger(accounts: string, transfers: string): string {
  return `with open as (
      select p.* from ${transfers} p where p.phase = 'pending' and not exists (select 1 from ${transfers} r where r.pending_id = p.id)
    ), moves as (
      select debit_account_id acct, amount_minor dpost, 0::bigint dpend, 0::bigint cpost, 0::bigint cpend from ${transfers} where phase in ('single', 'post')
      union all select credit_account_id, 0, 0, amount_minor, 0 from ${transfers} where phase in ('single', 'post')
      union all select debit_account_id, 0, amount_minor, 0, 0 from open
      union all select credit_account_id, 0, 0, 0, amount_minor from open
    ), d as (select acct, sum(dpost) dpost, sum(dpend) dpend, sum(cpost) cpost, sum(cpend) cpend from moves group by acct)
    update ${accounts} a
       set debits_posted = coalesce((select d.dpost from d where d.acct = a.id), 0),
           debits_pending = coalesce((select d.dpend from d where d.acct = a.id), 0),
           credits_posted = coalesce((select d.cpost from d where d.acct = a.id), 0),
           credits_pending = coalesce((select d.cpend from d where d.acct = a.id), 0)`;
}

async function fixBooks(clients: PerParty<pg.Client>, tpl: Template, clones: number): Promise<void> {
  const bank = clients.bank;
  // The cardholder pays for every clone: a further transfer from the bank's equity (transfers are
  // immutable), shaped as its opening one, with its movement, covers what they spend.
  for (const [acct, perClone] of tpl.bankDebits) {
    const account = acct.split(':')[1]!;
    const extra = (perClone * BigInt(clones)).toString();
    const tag = `${account}_scale${Date.now()}`;
    const copy = (table: string, where: string, patch: string) =>
      `insert into ${table} select (jsonb_populate_record(null::${table}, to_jsonb(t) || jsonb_build_object(${patch}))).*
         from ${table} t where ${where}`;
    await bank.query(
      copy('bank_ledger_transfers', 't.id = $1', `'id', $2::text, 'amount_minor', $3::bigint, 'created_at', now()`),
      [`opening_${account}`, `opening_${tag}`, extra],
    );
    await bank.query(
      copy(
        'movements',
        `t.id = (select id from movements where account_id = $1 and kind = 'opening' order by created_at limit 1)`,
        `'id', $2::text, 'amount_minor', $3::bigint, 'created_at', now(), 'description', 'Top-up (scale bench)'`,
      ),
      [account, `txn_${tag}`, extra],
    );
  }
  await bank.query(recomputeLedger('bank_ledger_accounts', 'bank_ledger_transfers'));
  await bank.query(
    `update accounts a set balance_minor = l.credits_posted - l.debits_posted, held_minor = l.debits_pending
       from bank_ledger_accounts l where l.id = 'cardholder:' || a.id || ':' || a.currency`,
  );
  await clients.gateway.query(recomputeLedger('ledger_accounts', 'ledger_transfers'));
}

/** The shop's feed cursor at the gateway's last event: the clones' events are not news to it. */
async function moveFeedCursor(clients: PerParty<pg.Client>): Promise<void> {
  const r = await clients.gateway.query<{ c: string | null }>('select max(cursor)::text c from events');
  if (!r.rows[0]?.c) return;
  await clients.shop.query(
    `insert into payment_state (key, value, updated_at) values ('gateway.events.cursor', $1, now())
     on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [r.rows[0].c],
  );
}

/** The template's tables, each after the tables it references. */
function parentsFirst(rows: Map<string, string[]>, tables: Map<string, TableInfo>): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  const done = new Set<string>();
  const visit = (name: string, depth: number) => {
    if (done.has(name) || depth > 50) return;
    for (const parent of tables.get(name)?.parents ?? []) if (rows.has(parent)) visit(parent, depth + 1);
    done.add(name);
    out.push([name, rows.get(name)!]);
  };
  for (const name of rows.keys()) visit(name, 0);
  return out;
}

/** Adds clones from..to (and the customers the new size calls for); the system must be stopped. */
export async function seedClones(
  clients: PerParty<pg.Client>,
  tpl: Template,
  range: { from: number; to: number; customersBefore: number },
  progress: (line: string) => void,
): Promise<{ rows: PerParty<number>; auditEntries: number; seconds: number }> {
  const t0 = performance.now();
  const customers = Math.max(1, Math.ceil(range.to / 20));
  await seedCustomers(clients.shop, tpl, range.customersBefore + 1, customers);
  const rows = { shop: 0, gateway: 0, bank: 0 } as PerParty<number>;
  const chunk = 10_000;
  const statements = {} as PerParty<string[]>;
  for (const p of PARTIES) {
    statements[p] = [];
    for (const [name, keys] of parentsFirst(tpl.rows[p], tpl.tables[p]))
      statements[p].push(await cloneStatement(clients[p], tpl.tables[p].get(name)!, keys, tpl, customers));
  }
  for (let a = range.from; a <= range.to; a += chunk) {
    const b = Math.min(range.to, a + chunk - 1);
    for (const p of PARTIES) {
      const c = clients[p];
      await c.query('begin');
      for (const text of statements[p]) rows[p] += (await c.query(text, [a, b])).rowCount ?? 0;
      await c.query('commit');
    }
    progress(`  clones ${b}/${range.to} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const auditEntries = await seedAudit(clients.shop, tpl, range.from, range.to, customers);
  await fixBooks(clients, tpl, range.to - range.from + 1);
  await moveFeedCursor(clients);
  for (const p of PARTIES) await clients[p].query('analyze');
  return { rows, auditEntries, seconds: (performance.now() - t0) / 1000 };
}

export type { Party };
