// The append-only, hash-chained audit log: every state change appends one entry in its own
// transaction, UNSEALED (no lock, no read of the chain's tip), so audited transactions never wait for
// each other. The sealer (src/shop/audit/sealer.ts) chains the committed entries shortly after, in the
// order it finds them committed: each gets the next position and a hash over its position, its
// content and the previous entry's hash, so editing, deleting or reordering a sealed row is detectable.
import { hash } from 'node:crypto';
import { asc, inArray, or, type SQL, sql, type SQLWrapper } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import { afterCommit, beforeCommit, rows, type Executor } from '../../platform/db/database.ts';
import { auditLog } from './tables.ts';

/** The hash the first entry chains from. */
export const GENESIS = '0'.repeat(64);

/** One stored audit entry. */
export type AuditEntry = typeof auditLog.$inferSelect;

/** One audit entry's content: who did what to which thing; ids and codes only, never personal data. */
export interface AuditInput {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly data?: Record<string, unknown>;
}

// jsonb stores objects with its own key order, so the hash covers a canonical form: each object's
// keys sorted, except that keys which are array indexes ("0", "17") come first in numeric order, as
// JavaScript lists them in any object. That is the form the chain has always hashed (JSON.stringify
// of an object rebuilt with sorted keys); it is written out directly here, with no rebuilt objects,
// because the verifier and the sealer hash every entry. Hand-written rather than a canonical-JSON
// library: those sort index keys as strings ("10" before "2"), which would change stored hashes.
const INDEX_KEY = /^(?:0|[1-9][0-9]{0,9})$/;
const isIndexKey = (k: string) => INDEX_KEY.test(k) && Number(k) < 2 ** 32 - 1;

function canonicalJson(value: unknown): string | undefined {
  // Strings and numbers first: they are most of what an entry holds. Built by concatenation (no
  // intermediate arrays): the verifier runs this over millions of entries.
  if (typeof value !== 'object' || value === null || value instanceof Date) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i === 0 ? '' : ','}${canonicalJson(value[i]) ?? 'null'}`;
    return `${out}]`;
  }
  const keys = Object.keys(value); // index keys first, in numeric order
  let indexes = 0;
  while (indexes < keys.length && isIndexKey(keys[indexes]!)) indexes += 1;
  const ordered = indexes === 0 ? keys.sort() : [...keys.slice(0, indexes), ...keys.slice(indexes).sort()];
  let out = '{';
  for (const k of ordered) {
    const v = canonicalJson((value as Record<string, unknown>)[k]);
    if (v !== undefined) out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${v}`;
  }
  return `${out}}`;
}

/** What an entry's hash covers besides its links: its id, time, actor, action, subject and data. */
export function entryBody(e: {
  id: string;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  data: unknown;
}): string {
  const j = JSON.stringify;
  return `[${j(e.id)},"${e.at.toISOString()}",${j(e.actor)},${j(e.action)},${j(e.subject)},${canonicalJson(e.data) ?? 'null'}]`;
}

/** The hash of a version-1 entry `e` chained from `prevHash` (entries chained before the sealer, by seq). */
export function entryHash(
  prevHash: string,
  e: { id: string; at: Date; actor: string; action: string; subject: string; data: unknown },
): string {
  return hash('sha256', `${prevHash}\n${entryBody(e)}`);
}

/** The version of the chain's hash formula: 1 before the sealer (no position), 2 since. */
export const CHAIN_VERSION = 2;

/** The hash of a version-2 entry at `position`, chained from `prevHash` (what the sealer stores in `hash`). */
export function sealedHash(
  prevHash: string,
  position: number,
  e: { id: string; at: Date; actor: string; action: string; subject: string; data: unknown },
): string {
  return hash('sha256', `countersign:audit:v2\n${position}\n${prevHash}\n${entryBody(e)}`);
}

// This process's sealers, told when entries inserted here are committed, so they look again soon;
// entries inserted by another node are found by its own sealer, or by the idle poll of this one.
const appendListeners = new Set<() => void>();

/** Calls `listener` after each commit of audit entries inserted in this process; returns the unsubscribe. */
export function onAuditAppend(listener: () => void): () => void {
  appendListeners.add(listener);
  return () => appendListeners.delete(listener);
}

// Entries of a transaction not yet written: they are inserted together as its last step.
const queued = new WeakMap<object, Array<{ input: AuditInput; now: Date }>>();

/**
 * Appends an entry, unsealed, in the caller's transaction. In a top-level transaction the entries are
 * inserted together as its last step before the commit (one statement); elsewhere (a savepoint) at once.
 */
export async function appendAudit(tx: Executor, input: AuditInput, now: Date): Promise<void> {
  const pending = queued.get(tx);
  if (pending) {
    pending.push({ input, now });
    return;
  }
  const entries = [{ input, now }];
  if (beforeCommit(tx, () => writeEntries(tx, entries))) queued.set(tx, entries);
  else await writeEntries(tx, entries);
}

async function writeEntries(tx: Executor, entries: Array<{ input: AuditInput; now: Date }>): Promise<void> {
  queued.delete(tx);
  const [only] = entries;
  if (entries.length === 1 && only) await oneEntry(tx).execute(auditValues(only.input, only.now));
  else await tx.insert(auditLog).values(entries.map(({ input, now }) => auditValues(input, now)));
  announceAppend(tx);
}

// Most audited transactions write one entry: its insert is built once (builtOnce).
const oneEntry = builtOnce((on) =>
  on
    .insert(auditLog)
    .values({
      id: slot('id', auditLog.id),
      at: slot('at', auditLog.at),
      actor: slot('actor', auditLog.actor),
      action: slot('action', auditLog.action),
      subject: slot('subject', auditLog.subject),
      data: slot('data', auditLog.data),
    })
    .prepare('audit_entry'),
);

function auditValues(input: AuditInput, now: Date): typeof auditLog.$inferInsert {
  return {
    id: newId('aud', now),
    at: now,
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    data: input.data ?? {},
  };
}

/**
 * The insert of `inputs` as unsealed entries at `now`, not yet run: for a statement that writes the
 * audited rows and their entries together (as a CTE). Call `announceAppend(tx)` once it ran.
 */
export function auditInsert(db: Executor, inputs: readonly AuditInput[], now: Date): SQLWrapper {
  return db.insert(auditLog).values(inputs.map((input) => auditValues(input, now)));
}

/**
 * auditInsert, written only when `onlyIf` (a subquery, such as a CTE's update) returns a row: for a
 * statement whose audited write may change nothing. Call `announceAppend(tx)` once it wrote.
 */
export function auditInsertIf(inputs: readonly AuditInput[], now: Date, onlyIf: SQL): SQL {
  const entries = sql.join(
    inputs.map((input) => {
      const v = auditValues(input, now);
      return sql`(${v.id}, ${now.toISOString()}::timestamptz, ${v.actor}, ${v.action}, ${v.subject}, ${JSON.stringify(v.data)}::jsonb)`;
    }),
    sql`, `,
  );
  return sql`insert into ${auditLog} (id, at, actor, action, subject, data)
    select * from (values ${entries}) as e where exists (${onlyIf})`;
}

/**
 * Tells this process's sealers that entries were inserted in `tx` (auditInsert's caller, after running
 * it): once `tx` commits, or at once outside a top-level transaction (a savepoint's entries are then
 * announced before they are committed, and may wait for the sealer's idle poll).
 */
export function announceAppend(tx: Executor): void {
  if (!afterCommit(tx, tellSealers)) tellSealers();
}

function tellSealers(): void {
  for (const listener of appendListeners) listener();
}

/** A sealed entry: position and hashes set. */
export type SealedEntry = AuditEntry & { chainPos: number; chainVersion: number; prevHash: string; hash: string };

/** Where the chain stands after an entry: its position, hash and version. */
export interface ChainLink {
  readonly pos: number;
  readonly hash: string;
  readonly version: number;
}

/** The chain's position and hash before the first entry. */
export const CHAIN_START: ChainLink = { pos: 0, hash: GENESIS, version: 1 };

/**
 * Why `e` does not follow `prev` in the chain, or null when it does: a version-2 entry sits at the
 * next position and its hash covers its position, content and the previous hash; a version-1 entry
 * (chained before the sealer, its position its seq) comes after the previous one and its hash covers
 * its content and the previous hash; no version-1 entry follows a version-2 one.
 */
export function chainBreak(prev: ChainLink, e: SealedEntry): string | null {
  if (e.prevHash !== prev.hash)
    return "its prev_hash is not the previous entry's hash (an entry before it was deleted, inserted, moved or edited)";
  if (e.chainVersion === 1) {
    if (prev.version !== 1) return 'a version-1 entry after version-2 ones (the chain was rearranged)';
    return entryHash(prev.hash, e) === e.hash ? null : 'its hash does not match its content (the entry was edited)';
  }
  if (e.chainVersion !== CHAIN_VERSION) return `unknown chain version ${e.chainVersion}`;
  if (e.chainPos !== prev.pos + 1)
    return `its position follows #${prev.pos} but is not #${prev.pos + 1} (an entry was deleted or moved)`;
  return sealedHash(prev.hash, e.chainPos, e) === e.hash
    ? null
    : 'its hash does not match its position and content (the entry was edited or moved)';
}

/** How many sealed entries a walk of the chain reads at a time. */
export const CHAIN_PAGE = 1000;

// A sealed entry as the page query returns it: timestamps are text through node-postgres (drizzle's
// parsers), Date through PGlite; bigints are text or number.
interface ChainRow {
  seq: number | string;
  id: string;
  at: Date | string;
  actor: string;
  action: string;
  subject: string;
  data: unknown;
  prev_hash: string;
  hash: string;
  chain_pos: number | string;
  chain_version: number | string;
}

/** Up to `limit` sealed entries after position `afterPos`, in chain order (the chain is read in pages, never whole). */
export async function sealedEntriesAfter(db: Executor, afterPos: number, limit = CHAIN_PAGE): Promise<SealedEntry[]> {
  // Raw SQL rather than the query builder: a walk maps millions of rows, and the builder's per-row
  // mapping was a large part of the verifier's time.
  const page = await rows<ChainRow>(
    db,
    sql`select seq, id, at, actor, action, subject, data, prev_hash, hash, chain_pos, chain_version
          from audit_log where chain_pos > ${afterPos} order by chain_pos limit ${limit}`,
  );
  return page.map((r) => ({
    seq: Number(r.seq),
    id: r.id,
    at: typeof r.at === 'string' ? new Date(r.at) : r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    data: r.data,
    prevHash: r.prev_hash,
    hash: r.hash,
    chainPos: Number(r.chain_pos),
    chainVersion: Number(r.chain_version),
  }));
}

/**
 * The sealed chain after position `afterPos`, a page at a time in chain order, in constant memory:
 * the next page is already being read while the caller checks this one.
 */
export async function* sealedPages(db: Executor, afterPos = 0, pageSize = CHAIN_PAGE): AsyncGenerator<SealedEntry[]> {
  const read = (after: number) => {
    const next = sealedEntriesAfter(db, after, pageSize);
    next.catch(() => undefined); // a walk that stops early leaves it unread; awaited, it still throws
    return next;
  };
  for (let next = read(afterPos); ; ) {
    const page = await next;
    if (page.length === 0) return;
    if (page.length < pageSize) {
      yield page;
      return;
    }
    next = read(page.at(-1)!.chainPos);
    yield page;
  }
}

/** Walks the whole sealed chain; returns the position of the first broken entry, or null when intact. */
export async function verifyAuditChain(db: Executor): Promise<number | null> {
  let prev = CHAIN_START;
  for await (const page of sealedPages(db)) {
    for (const e of page) {
      if (chainBreak(prev, e)) return e.chainPos;
      prev = { pos: e.chainPos, hash: e.hash, version: e.chainVersion };
    }
  }
  return null;
}

/** The audit entries about an order: the order, its invoices, attempts and refunds, or naming it in their data. */
export async function auditTrailForOrder(db: Executor, orderId: string, subjects: readonly string[]) {
  return db
    .select()
    .from(auditLog)
    .where(or(inArray(auditLog.subject, [orderId, ...subjects]), sql`${auditLog.data}->>'orderId' = ${orderId}`))
    .orderBy(asc(auditLog.seq))
    .limit(500);
}
