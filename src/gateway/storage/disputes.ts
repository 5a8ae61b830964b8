// Dispute rows. `moveDispute` is the one writer of `disputes.status`; a dispute is inserted `needs_response`.
import { and, asc, desc, eq, gt, lt, ne } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import type { Executor } from '../../platform/db/database.ts';
import { disputeMachine, type DisputeEvent, type DisputeReason } from '../domain/dispute.machine.ts';
import type { ApiDialect } from '../domain/stripe.ts';
import { disputes, type DisputeRow, type StripeEvidenceFields } from './dispute-tables.ts';
import { paymentSessions } from './tables.ts';

/** Inserts a dispute in `needs_response`; returns the existing one when the bank's reference is known. */
export async function insertDispute(
  tx: Executor,
  input: {
    id: string;
    merchantId: string;
    sessionId: string;
    bankDisputeRef: string;
    amountMinor: bigint;
    currency: string;
    reason: DisputeReason;
    evidenceDueBy: Date;
    now: Date;
  },
): Promise<{ row: DisputeRow; created: boolean }> {
  const inserted = await tx
    .insert(disputes)
    .values({
      id: input.id,
      merchantId: input.merchantId,
      sessionId: input.sessionId,
      bankDisputeRef: input.bankDisputeRef,
      amountMinor: input.amountMinor,
      currency: input.currency,
      reason: input.reason,
      status: 'needs_response',
      evidenceDueBy: input.evidenceDueBy,
      createdAt: input.now,
      updatedAt: input.now,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return { row: inserted[0], created: true };
  const [row] = await tx.select().from(disputes).where(eq(disputes.bankDisputeRef, input.bankDisputeRef));
  return { row: row!, created: false };
}

/** Whether a session has a dispute that is not won (open, or lost): its money went back to the cardholder, or may. */
export async function hasUnwonDispute(db: Executor, sessionId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: disputes.id })
    .from(disputes)
    .where(and(eq(disputes.sessionId, sessionId), ne(disputes.status, 'won')))
    .limit(1);
  return row !== undefined;
}

/**
 * Whether a session's payment was ever disputed, whatever the outcome: Stripe's `Charge.disputed`.
 * Only a captured payment can be disputed, so the others cost no read.
 */
export async function wasDisputed(db: Executor, session: { id: string; capturedMinor: bigint }): Promise<boolean> {
  if (session.capturedMinor === 0n) return false;
  const [row] = await db.select({ id: disputes.id }).from(disputes).where(eq(disputes.sessionId, session.id)).limit(1);
  return row !== undefined;
}

/** A dispute by id, scoped to its merchant when one is given (another merchant's is not found). */
export async function findDispute(db: Executor, id: string, merchantId?: string): Promise<DisputeRow | undefined> {
  const where =
    merchantId === undefined ? eq(disputes.id, id) : and(eq(disputes.id, id), eq(disputes.merchantId, merchantId));
  const [row] = await db.select().from(disputes).where(where);
  return row;
}

/** Reads and row-locks a merchant's dispute (or any, by the bank's reference); not_found when absent. */
export async function lockDispute(
  tx: Executor,
  by: { id: string; merchantId: string } | { bankDisputeRef: string },
): Promise<DisputeRow> {
  const where =
    'bankDisputeRef' in by
      ? eq(disputes.bankDisputeRef, by.bankDisputeRef)
      : and(eq(disputes.id, by.id), eq(disputes.merchantId, by.merchantId));
  const [row] = await tx.select().from(disputes).where(where).for('update');
  if (!row) throw new DomainError('not_found', { resource: 'dispute' });
  return row;
}

/** A merchant's disputes, newest first, optionally before a dispute id (the list's cursor). */
export async function listDisputes(
  db: Executor,
  merchantId: string,
  options: {
    limit: number;
    before?: string | undefined;
    after?: string | undefined;
    sessionId?: string | undefined;
    /** Only the disputes of payments opened through this API (the Stripe edge shows its own only). */
    api?: ApiDialect;
  },
): Promise<DisputeRow[]> {
  const conditions = [eq(disputes.merchantId, merchantId)];
  if (options.before) conditions.push(lt(disputes.id, options.before));
  if (options.after) conditions.push(gt(disputes.id, options.after));
  if (options.sessionId) conditions.push(eq(disputes.sessionId, options.sessionId));
  if (options.api) conditions.push(eq(paymentSessions.api, options.api));
  const found = await db
    .select({ dispute: disputes })
    .from(disputes)
    .innerJoin(paymentSessions, eq(paymentSessions.id, disputes.sessionId))
    .where(and(...conditions))
    .orderBy(options.after ? asc(disputes.id) : desc(disputes.id))
    .limit(options.limit);
  const list = found.map((r) => r.dispute);
  return options.after ? list.reverse() : list;
}

/** The one writer of a dispute's status: applies an event to a locked dispute, as the machine allows. */
export async function moveDispute(
  tx: Executor,
  dispute: DisputeRow,
  event: DisputeEvent,
  now: Date,
  patch: Partial<Pick<DisputeRow, 'evidence' | 'stripeEvidence' | 'submissionCount'>> = {},
): Promise<DisputeRow> {
  const { state } = disputeMachine.apply(dispute.status, event);
  const closed = disputeMachine.isTerminal(state);
  const [row] = await tx
    .update(disputes)
    .set({ ...patch, status: state, updatedAt: now, ...(closed ? { closedAt: now } : {}) })
    .where(eq(disputes.id, dispute.id))
    .returning();
  return row!;
}

/** Records that the merchant's answer reached the bank (not a status: the job's receipt). */
export async function markForwarded(db: Executor, id: string, now: Date): Promise<void> {
  await db.update(disputes).set({ forwardedAt: now }).where(eq(disputes.id, id));
}

/** Keeps Stripe evidence fields given without `submit` (Stripe's staging): no change of status. */
export async function stageStripeEvidence(
  tx: Executor,
  id: string,
  fields: StripeEvidenceFields,
  now: Date,
): Promise<void> {
  await tx.update(disputes).set({ stripeEvidence: fields, updatedAt: now }).where(eq(disputes.id, id));
}
