// The one writer of a payment attempt's status: every change goes through the attempt's machine and
// is guarded by the status it moves from, with its audit entry in the same transaction
// (transitionAttempt, under the attempt's row lock) or the same statement (moveAttemptFrom).
import { and, eq, type SQL, sql } from 'drizzle-orm';
import { rows, type Executor } from '../../platform/db/database.ts';
import { attemptMachine, type AttemptEvent, type AttemptStatus } from '../domain/attempt.machine.ts';
import { announceAppend, appendAudit, auditInsertIf } from '../storage/audit.ts';
import type { AttemptRow } from '../storage/payments.ts';
import { paymentAttempts } from '../storage/tables.ts';

/** Columns that may change together with the status. */
export type AttemptPatch = Partial<
  Pick<AttemptRow, 'gatewaySessionId' | 'redirectUrl' | 'lastSequence' | 'reason' | 'cardBrand' | 'cardLast4'>
>;

/**
 * Moves an attempt by one event of its machine: reads it FOR UPDATE, asks the machine, writes the new
 * status with `patch` and the audit entry. Returns the updated row, or undefined (nothing written) when
 * the attempt is unknown or the machine does not allow the event from its current status.
 *
 * `locked` is the attempt as the caller read it FOR UPDATE in this transaction (the webhook intake
 * locks it to decide): it is not read again. The write names the status it moves from, so a stale one
 * moves nothing. Outside a transaction, from a known status: moveAttemptFrom.
 */
export async function transitionAttempt(
  tx: Executor,
  attemptId: string,
  event: AttemptEvent,
  audit: { actor: string; now: Date; data: Record<string, unknown>; action?: string },
  patch: AttemptPatch = {},
  locked?: Pick<AttemptRow, 'id' | 'status'>,
): Promise<AttemptRow | undefined> {
  const [current] =
    locked?.id === attemptId
      ? [locked]
      : await tx.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId)).for('update');
  if (!current) return undefined;
  const from = current.status as AttemptStatus;
  const t = attemptMachine.transition(from, event);
  if (!t.ok) return undefined;
  const [updated] = await attemptMove(tx, attemptId, from, t.state, patch, audit.now);
  if (!updated) return undefined;
  await appendAudit(
    tx,
    {
      actor: audit.actor,
      action: audit.action ?? `attempt.${event}`,
      subject: attemptId,
      data: { from, to: t.state, ...audit.data },
    },
    audit.now,
  );
  return updated;
}

/**
 * transitionAttempt for an attempt the caller knows to be in `from`, outside a transaction: the
 * update, guarded by that status and by `guard` when given, and its audit entry in ONE statement (the
 * entry only when the update wrote). Returns whether the attempt moved; when it did not (it left
 * `from` meanwhile, or `guard` failed) nothing is written.
 */
export async function moveAttemptFrom(
  db: Executor,
  attemptId: string,
  from: AttemptStatus,
  event: AttemptEvent,
  audit: { actor: string; now: Date; data: Record<string, unknown>; action?: string },
  patch: AttemptPatch = {},
  guard?: SQL,
): Promise<boolean> {
  const t = attemptMachine.transition(from, event);
  if (!t.ok) return false;
  const update = attemptMove(db, attemptId, from, t.state, patch, audit.now, guard);
  const entry = {
    actor: audit.actor,
    action: audit.action ?? `attempt.${event}`,
    subject: attemptId,
    data: { from, to: t.state, ...audit.data },
  };
  const [r] = await rows<{ moved: number }>(
    db,
    sql`with moved as (${update.getSQL()}),
      audit as (${auditInsertIf([entry], audit.now, sql`select 1 from moved`)})
      select count(*)::int as moved from moved`,
  );
  const moved = Number(r?.moved) > 0;
  if (moved) announceAppend(db);
  return moved;
}

/** The one write of an attempt's status: from `from` to `to` (the machine's answer), only while it is still `from`. */
function attemptMove(
  db: Executor,
  attemptId: string,
  from: AttemptStatus,
  to: AttemptStatus,
  patch: AttemptPatch,
  now: Date,
  guard?: SQL,
) {
  return db
    .update(paymentAttempts)
    .set({ ...patch, status: to, updatedAt: now })
    .where(and(eq(paymentAttempts.id, attemptId), eq(paymentAttempts.status, from), guard))
    .returning();
}
