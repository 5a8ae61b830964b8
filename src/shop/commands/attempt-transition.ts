// The one writer of a payment attempt's status: every change goes through the attempt's machine,
// under the attempt's row lock, with its audit entry in the same transaction.
import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { attemptMachine, type AttemptEvent, type AttemptStatus } from '../domain/attempt.machine.ts';
import { appendAudit } from '../storage/audit.ts';
import type { AttemptRow } from '../storage/payments.ts';
import { paymentAttempts } from '../storage/tables.ts';

/** Columns that may change together with the status. */
export type AttemptPatch = Partial<Pick<AttemptRow, 'gatewaySessionId' | 'redirectUrl' | 'lastSequence' | 'reason'>>;

/**
 * Moves an attempt by one event of its machine: reads it FOR UPDATE, asks the machine, writes the new
 * status with `patch` and the audit entry. Returns the updated row, or undefined (nothing written) when
 * the attempt is unknown or the machine does not allow the event from its current status.
 *
 * `locked` is the attempt as the caller knows it: read FOR UPDATE in this transaction (the webhook
 * intake locks it to decide), or the status every move it makes starts from (Pay now's moves, from
 * `created`). It is not read again. The write names the status it moves from, so a stale one moves
 * nothing.
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
  const [updated] = await tx
    .update(paymentAttempts)
    .set({ ...patch, status: t.state, updatedAt: audit.now })
    .where(and(eq(paymentAttempts.id, attemptId), eq(paymentAttempts.status, from)))
    .returning();
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
