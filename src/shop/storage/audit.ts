// The append-only, hash-chained audit log: every state change appends one entry in its own
// transaction. Appends are serialised by a transaction-scoped advisory lock so that the chain has no
// forks across nodes; each hash covers the previous one, so editing or deleting a row is detectable.
import { createHash } from 'node:crypto';
import { asc, desc, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Executor } from '../../platform/db/database.ts';
import { auditLog } from './tables.ts';

const GENESIS = '0'.repeat(64);

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
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

function entryHash(prevHash: string, e: { id: string; at: Date; actor: string; action: string; subject: string; data: unknown }): string {
  const body = JSON.stringify([e.id, e.at.toISOString(), e.actor, e.action, e.subject, canonical(e.data)]);
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/** Appends an entry in the caller's transaction. */
export async function appendAudit(tx: Executor, input: AuditInput, now: Date): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('countersign:shop:audit'))`);
  const last = await tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  const prevHash = last[0]?.hash ?? GENESIS;
  const entry = { id: newId('aud', now), at: now, actor: input.actor, action: input.action, subject: input.subject, data: input.data ?? {} };
  await tx.insert(auditLog).values({ ...entry, prevHash, hash: entryHash(prevHash, entry) });
}

/** Walks the whole chain; returns the seq of the first broken entry, or null when intact. */
export async function verifyAuditChain(db: Executor): Promise<number | null> {
  const entries = await db.select().from(auditLog).orderBy(asc(auditLog.seq));
  let prev = GENESIS;
  for (const e of entries) {
    if (e.prevHash !== prev || entryHash(prev, e) !== e.hash) return e.seq;
    prev = e.hash;
  }
  return null;
}
