// The append-only, hash-chained audit log: every state change appends one entry in its own
// transaction. Appends are serialised by a transaction-scoped advisory lock so that the chain has no
// forks across nodes; each hash covers the previous one, so editing or deleting a row is detectable.
import { createHash } from 'node:crypto';
import { asc, gt, inArray, or, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import { beforeCommit, rows, type Executor } from '../../platform/db/database.ts';
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

// jsonb stores objects with its own key order, so the hash covers a canonical form (sorted keys).
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

function entryBody(e: { id: string; at: Date; actor: string; action: string; subject: string; data: unknown }): string {
  return JSON.stringify([e.id, e.at.toISOString(), e.actor, e.action, e.subject, canonical(e.data)]);
}

/** The hash of entry `e` chained from `prevHash` (what each row stores in `hash`). */
export function entryHash(
  prevHash: string,
  e: { id: string; at: Date; actor: string; action: string; subject: string; data: unknown },
): string {
  return createHash('sha256').update(prevHash).update('\n').update(entryBody(e)).digest('hex');
}

// Entries of a transaction not yet written: they are appended together just before its commit.
const queued = new WeakMap<object, Array<{ input: AuditInput; now: Date }>>();

/**
 * Appends an entry in the caller's transaction. In a top-level transaction the entries are written
 * together as its last step before the commit (one lock, one read of the chain's tip, one insert),
 * so the chain's global lock is held only for that; elsewhere (a savepoint) at once.
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
  // The lock first, in its own statement: the read of the tip must see every chain append committed before it.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('countersign:shop:audit'))`);
  const made = entries.map(({ input, now }) => ({
    id: newId('aud', now),
    at: now,
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    data: input.data ?? {},
  }));
  // The first entry reads the chain's tip and is inserted in the same statement, its hash computed
  // by PostgreSQL exactly as entryHash does (sha256 over the UTF-8 of tip, newline, body; hex).
  const [first, ...rest] = made;
  const inserted = await rows<{ hash: string }>(
    tx,
    sql`insert into audit_log (id, at, actor, action, subject, data, prev_hash, hash)
        select ${first!.id}, ${first!.at.toISOString()}::timestamptz, ${first!.actor}, ${first!.action}, ${first!.subject}, ${JSON.stringify(first!.data)}::jsonb,
               tip.hash, encode(sha256(convert_to(tip.hash || E'\n' || ${entryBody(first!)}, 'UTF8')), 'hex')
        from (select coalesce((select hash from audit_log order by seq desc limit 1), ${GENESIS}) as hash) tip
        returning hash`,
  );
  let prevHash = inserted[0]!.hash;
  if (rest.length === 0) return;
  await tx.insert(auditLog).values(
    rest.map((entry) => {
      const row = { ...entry, prevHash, hash: entryHash(prevHash, entry) };
      prevHash = row.hash;
      return row;
    }),
  );
}

/** True when `e` chains from `prevHash` and its hash covers its content. */
export function entryLinks(prevHash: string, e: AuditEntry): boolean {
  return e.prevHash === prevHash && entryHash(prevHash, e) === e.hash;
}

/** Up to `limit` entries after `afterSeq`, in chain order (the chain is read in pages, never whole). */
export async function auditEntriesAfter(db: Executor, afterSeq: number, limit = 1000): Promise<AuditEntry[]> {
  return db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(limit);
}

/** Walks the whole chain; returns the seq of the first broken entry, or null when intact. */
export async function verifyAuditChain(db: Executor): Promise<number | null> {
  let prev = GENESIS;
  for (
    let page = await auditEntriesAfter(db, 0);
    page.length > 0;
    page = await auditEntriesAfter(db, page.at(-1)!.seq)
  ) {
    for (const e of page) {
      if (!entryLinks(prev, e)) return e.seq;
      prev = e.hash;
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
