// The one writer of disputes.status at the bank. Every command that changes a dispute locks its row
// first (lockBankDispute), then moves it here: the machine decides (an illegal event throws
// `state.illegal_transition` before anything is written), and the UPDATE is guarded by the state read
// under the lock. A dispute is inserted `open` by open-dispute.ts.
import { and, eq } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { DomainError } from '../../core/errors.ts';
import type { Executor } from '../../platform/db/database.ts';
import { bankDisputeMachine, type BankDisputeEvent, type BankDisputeStatus } from '../domain/dispute.machine.ts';
import { disputes } from '../storage/tables.ts';

export type BankDisputeRow = typeof disputes.$inferSelect;
type DisputeFields = Omit<PgUpdateSetSource<typeof disputes>, 'id' | 'status'>;

/** Locks a dispute for the rest of the transaction; `not_found` when there is none. */
export async function lockBankDispute(tx: Executor, id: string): Promise<BankDisputeRow> {
  const [row] = await tx.select().from(disputes).where(eq(disputes.id, id)).for('update');
  if (!row) throw new DomainError('not_found');
  return row;
}

/** Applies `event` to a dispute the caller locked, with the fields that change with it. */
export async function moveBankDispute(
  tx: Executor,
  locked: BankDisputeRow,
  event: BankDisputeEvent,
  fields: DisputeFields,
): Promise<BankDisputeRow> {
  const next = bankDisputeMachine.apply(locked.status as BankDisputeStatus, event);
  const [updated] = await tx
    .update(disputes)
    .set({ ...fields, status: next.state })
    .where(and(eq(disputes.id, locked.id), eq(disputes.status, locked.status)))
    .returning();
  if (!updated) throw new Error(`dispute ${locked.id} was not in state ${locked.status} under its lock`);
  return updated;
}
