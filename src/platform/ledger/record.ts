// Writing a ledger (the rules of src/core/ledger.ts) in PostgreSQL: a batch of transfers inside the
// caller's transaction, the transaction of the step they record. The accounts named are created if new
// and locked in id order (so two transactions never wait on each other in a cycle), each transfer is
// decided by the rules (a no-op when the same id exists with the same fields), and the account totals
// move with it. Two racing resolutions of one pending transfer serialise on the accounts' locks; the
// second sees the first's post or void and is refused — and the unique index on pending_id refuses it
// regardless. Any refusal throws a DomainError and the caller's whole transaction rolls back. A batch
// known to be unrecorded that resolves nothing skips the reads: one statement locks, moves and inserts.
//
// Both ledgers (the gateway's, the bank's) write through here; each describes its two tables with a
// LedgerBook. The SQL is written out rather than built by drizzle from the tables because it is the
// same for both books, which differ only in their own columns.
import { sql } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import {
  addBalances,
  applyDelta,
  decideTransfer,
  EMPTY_BALANCES,
  transferDeltas,
  type AccountFlags,
  type Balances,
  type LedgerTransfer,
} from '../../core/ledger.ts';
import { databaseError } from '../db/database-error.ts';
import { rows, type Executor } from '../db/database.ts';

/** A ledger's two tables and what is its own in them. Table and column names are constants, never input. */
export interface LedgerBook<T extends LedgerTransfer> {
  readonly accounts: string;
  readonly transfers: string;
  /** The ledger's own transfer fields (what a transfer refers to), each with its column. */
  readonly references: { readonly [F in Exclude<keyof T, keyof LedgerTransfer>]: string };
  /** An account's flags, from its id. */
  readonly flagsOf: (accountId: string) => AccountFlags;
  /** A new account's currency and its own columns (its owner, its flags…), from its id. */
  readonly newAccount: (accountId: string) => { currency: string; columns: Record<string, string | boolean> };
}

type Value = string | boolean | null;
const id = (name: string) => sql.identifier(name);
const list = (items: Parameters<typeof sql.join>[0]) => sql.join(items, sql`, `);
const tuple = (values: readonly Value[]) => sql`(${list(values.map((v) => sql`${v}`))})`;

interface LockedAccount extends Balances {
  readonly id: string;
  readonly currency: string;
}

/** Creates the accounts named (if new) and locks them, in id order; returns them by id. */
async function lockAccounts<T extends LedgerTransfer>(book: LedgerBook<T>, tx: Executor, ids: string[], now: Date) {
  const sorted = [...new Set(ids)].sort();
  const made = sorted.map((accountId) => ({ accountId, ...book.newAccount(accountId) }));
  const own = Object.keys(made[0]!.columns);
  // One statement creates the new accounts and locks every one, in id order: DO UPDATE locks an
  // existing row (a no-op update of created_at to itself) and RETURNING gives its latest committed
  // balances, as a SELECT ... FOR UPDATE would after waiting for that lock.
  const accounts = id(book.accounts);
  const found = await rows<Record<'id' | 'currency' | 'dpend' | 'dpost' | 'cpend' | 'cpost', string>>(
    tx,
    sql`insert into ${accounts} (id, currency, created_at, ${list(own.map(id))})
        values ${list(made.map((a) => tuple([a.accountId, a.currency, now.toISOString(), ...own.map((c) => a.columns[c]!)])))}
        on conflict (id) do update set created_at = ${accounts}.created_at
        returning id, currency, debits_pending::text as dpend, debits_posted::text as dpost,
                  credits_pending::text as cpend, credits_posted::text as cpost`,
  );
  return new Map<string, LockedAccount>(
    found.map((r) => [
      r.id,
      {
        id: r.id,
        currency: r.currency,
        debitsPending: BigInt(r.dpend),
        debitsPosted: BigInt(r.dpost),
        creditsPending: BigInt(r.cpend),
        creditsPosted: BigInt(r.cpost),
      },
    ]),
  );
}

const BASE_COLUMNS = sql`id, debit_account_id, credit_account_id, amount_minor::text as amount_minor, currency, kind, phase, pending_id`;

/** The stored transfers the batch names (its ids and the pending ids it resolves) and what resolved those pendings. */
async function knownTransfers<T extends LedgerTransfer>(book: LedgerBook<T>, tx: Executor, batch: readonly T[]) {
  const refs = Object.entries(book.references) as [string, string][];
  const ids = batch.map((t) => sql`${t.id}`);
  const pendingIds = batch.flatMap((t) => (t.pendingId ? [sql`${t.pendingId}`] : []));
  const found = await rows<Record<string, string | null>>(
    tx,
    sql`select ${BASE_COLUMNS}${refs.length ? sql`, ${list(refs.map(([, column]) => id(column)))}` : sql``}
          from ${id(book.transfers)}
         where ${
           pendingIds.length
             ? sql`id in (${list([...ids, ...pendingIds])}) or (pending_id is not null and pending_id in (${list(pendingIds)}))`
             : sql`id in (${list(ids)})`
         }`,
  );
  const fromRow = (r: Record<string, string | null>): T =>
    ({
      id: r.id,
      debitAccountId: r.debit_account_id,
      creditAccountId: r.credit_account_id,
      amount: BigInt(r.amount_minor!),
      currency: r.currency,
      kind: r.kind,
      phase: r.phase,
      pendingId: r.pending_id,
      ...Object.fromEntries(refs.map(([field, column]) => [field, r[column]])),
    }) as unknown as T;
  return {
    byId: new Map(found.map((r) => [r.id!, fromRow(r)])),
    resolvedBy: new Map(found.flatMap((r) => (r.pending_id ? [[r.pending_id, r.id!] as const] : []))),
  };
}

/** The transfers' insert: its columns, and a row of values each (typed, so that a SELECT of them inserts too). */
function transferInsert<T extends LedgerTransfer>(book: LedgerBook<T>, written: readonly T[], now: Date) {
  const refs = Object.entries(book.references) as [keyof T & string, string][];
  const text = (v: Value) => sql`${v}::text`;
  return {
    columns: sql`(id, debit_account_id, credit_account_id, amount_minor, currency, kind, phase, pending_id, created_at${refs.length ? sql`, ${list(refs.map(([, c]) => id(c)))}` : sql``})`,
    rows: list(
      written.map(
        (t) =>
          sql`(${list([
            text(t.id),
            text(t.debitAccountId),
            text(t.creditAccountId),
            sql`${t.amount.toString()}::bigint`,
            text(t.currency),
            text(t.kind),
            text(t.phase),
            text(t.pendingId),
            sql`${now.toISOString()}::timestamptz`,
            ...refs.map(([field]) => text(t[field] as Value)),
          ])})`,
      ),
    ),
  };
}

/**
 * Inserts the transfers written and sets the new totals of every account they touched, in one
 * statement: the insert is a data-modifying CTE beside the update, so both land or neither does, and
 * the order's round trips drop by one per batch.
 */
async function store<T extends LedgerTransfer>(
  book: LedgerBook<T>,
  tx: Executor,
  written: readonly T[],
  totals: ReadonlyMap<string, Balances>,
  now: Date,
) {
  const touched = [...new Set(written.flatMap((t) => [t.debitAccountId, t.creditAccountId]))].sort();
  const values = touched.map((accountId) => {
    const b = totals.get(accountId)!;
    return sql`(${accountId}, ${b.debitsPending}::bigint, ${b.debitsPosted}::bigint, ${b.creditsPending}::bigint, ${b.creditsPosted}::bigint)`;
  });
  const insert = transferInsert(book, written, now);
  await tx.execute(sql`
    with written as (insert into ${id(book.transfers)} ${insert.columns} values ${insert.rows})
    update ${id(book.accounts)} as a
       set debits_pending = v.dpend, debits_posted = v.dpost, credits_pending = v.cpend, credits_posted = v.cpost
      from (values ${list(values)}) as v(id, dpend, dpost, cpend, cpost)
     where a.id = v.id`);
}

/** The accounts' CHECK that refused a moved total, as the rules' refusal (ledger.limit_exceeded); else undefined. */
function limitRefusal(err: unknown): DomainError | undefined {
  const refused = databaseError(err);
  if (refused?.code !== '23514') return undefined;
  const reason = /_(debits_limit|never_negative)"/.test(refused.message)
    ? 'debits_exceed_credits'
    : /_credits_limit"/.test(refused.message)
      ? 'credits_exceed_debits'
      : undefined;
  if (!reason) return undefined;
  const account = refused.detail && /^Failing row contains \(([^,]+),/.exec(refused.detail)?.[1];
  return new DomainError('ledger.limit_exceeded', { account: account || 'unknown', reason }, { cause: err });
}

/**
 * A batch that is not recorded yet and resolves no pending transfer moves its accounts' totals by
 * amounts known without reading them. So, in ONE statement: its accounts are locked in id order, each
 * total moved by its delta, and its transfers inserted, if every account exists in its currency;
 * otherwise nothing is written and the batch goes the locked way (which creates a new account). The
 * rules decide each transfer first (an account's currency is its id's, as a new account gets it), and
 * the accounts' CHECK constraints hold the flags on the moved totals: a total a flag forbids fails the
 * statement as ledger.limit_exceeded, as the rules would have refused it. True when written.
 */
async function storeUnread<T extends LedgerTransfer>(
  book: LedgerBook<T>,
  tx: Executor,
  batch: readonly T[],
  now: Date,
): Promise<boolean> {
  if (new Set(batch.map((t) => t.id)).size !== batch.length) return false;
  const currencyOf = (accountId: string) => book.newAccount(accountId).currency;
  const deltas = new Map<string, Balances>();
  const add = (accountId: string, d: Balances) =>
    deltas.set(accountId, addBalances(deltas.get(accountId) ?? EMPTY_BALANCES, d));
  for (const t of batch) {
    decideTransfer(t, { existing: undefined, currencyOf });
    const d = transferDeltas(t);
    add(t.debitAccountId, d.debit);
    add(t.creditAccountId, d.credit);
  }
  const touched = [...deltas.keys()].sort();
  const values = touched.map((accountId) => {
    const d = deltas.get(accountId)!;
    return sql`(${accountId}::text, ${currencyOf(accountId)}::text, ${d.debitsPending}::bigint, ${d.debitsPosted}::bigint, ${d.creditsPending}::bigint, ${d.creditsPosted}::bigint)`;
  });
  const accounts = id(book.accounts);
  const insert = transferInsert(book, batch, now);
  const all = touched.length;
  try {
    const [r] = await rows<{ moved: number }>(
      tx,
      sql`with v(id, currency, dpend, dpost, cpend, cpost) as (values ${list(values)}),
        locked as (
          select a.id from ${accounts} as a join v on a.id = v.id and a.currency = v.currency order by a.id for update of a
        ),
        moved as (
          update ${accounts} as a
             set debits_pending = a.debits_pending + v.dpend, debits_posted = a.debits_posted + v.dpost,
                 credits_pending = a.credits_pending + v.cpend, credits_posted = a.credits_posted + v.cpost
            from v
           where a.id = v.id and (select count(*) from locked) = ${all}
          returning a.id
        ),
        written as (
          insert into ${id(book.transfers)} ${insert.columns}
          select * from (values ${insert.rows}) as t where (select count(*) from moved) = ${all}
        )
      select (select count(*) from moved)::int as moved`,
    );
    return Number(r?.moved) === all;
  } catch (err) {
    throw limitRefusal(err) ?? err;
  }
}

/** How a batch is recorded. */
export interface RecordOptions {
  /**
   * The caller knows that none of the batch is recorded yet: its ids were made in this transaction,
   * or the state change that records it is guarded to happen once (a session authorised once). The
   * read of known transfers is then left out, and on accounts that exist the batch is written in one
   * statement (storeUnread). A batch that resolves a pending transfer is always read, for the pending
   * one. If a transfer was recorded all the same, its insert fails on the
   * primary key and the caller's transaction rolls back: never a second copy.
   */
  readonly unrecorded?: boolean;
}

/**
 * Records transfers, in order, in the caller's transaction: those already recorded with the same
 * fields are skipped; a conflicting one, an unbalanced one, or one that would break an account's
 * flag throws a DomainError. Returns the ids written.
 */
export async function recordTransfers<T extends LedgerTransfer>(
  book: LedgerBook<T>,
  tx: Executor,
  batch: readonly T[],
  now: Date,
  options: RecordOptions = {},
): Promise<string[]> {
  if (batch.length === 0) return [];
  if (options.unrecorded && batch.every((t) => !t.pendingId) && (await storeUnread(book, tx, batch, now)))
    return batch.map((t) => t.id);
  const accounts = await lockAccounts(
    book,
    tx,
    batch.flatMap((t) => [t.debitAccountId, t.creditAccountId]),
    now,
  );
  const { byId, resolvedBy } =
    options.unrecorded && batch.every((t) => !t.pendingId)
      ? { byId: new Map<string, T>(), resolvedBy: new Map<string, string>() }
      : await knownTransfers(book, tx, batch);
  const totals = new Map<string, Balances>([...accounts.values()].map((a) => [a.id, a]));
  const written: T[] = [];
  for (const t of batch) {
    const pending = t.pendingId ? byId.get(t.pendingId) : undefined;
    const verdict = decideTransfer(t, {
      existing: byId.get(t.id),
      pending: pending ? { transfer: pending, resolvedBy: resolvedBy.get(pending.id) ?? null } : undefined,
      currencyOf: (accountId) => accounts.get(accountId)?.currency,
    });
    if (!verdict.write) continue;
    const delta = transferDeltas(t, pending?.amount ?? 0n);
    for (const [accountId, d] of [
      [t.debitAccountId, delta.debit],
      [t.creditAccountId, delta.credit],
    ] as const) {
      totals.set(accountId, applyDelta({ id: accountId, flags: book.flagsOf(accountId) }, totals.get(accountId)!, d));
    }
    byId.set(t.id, t);
    if (t.pendingId) resolvedBy.set(t.pendingId, t.id);
    written.push(t);
  }
  if (written.length === 0) return [];
  await store(book, tx, written, totals, now);
  return written.map((t) => t.id);
}
