// A cardholder disputes a captured payment in the app: only their own, only captured, only once, for
// at most what was captured and not refunded. The dispute, the provisional credit, the gateway's
// `dispute.opened` callback and the deadline job commit together.
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import { DISPUTE_REASONS, type DisputeReason } from '../domain/dispute.machine.ts';
import { lockAuthorization } from '../storage/authorizations.ts';
import { BANK_TASKS } from '../storage/bank-settings.ts';
import { disputes } from '../storage/tables.ts';
import { creditChargeback } from './dispute-money.ts';
import type { BankDisputeRow } from './dispute-status.ts';
import { enqueueCallback } from './enqueue-callback.ts';

/** Opens a dispute of the cardholder's captured payment; `not_found` for a payment that is not theirs. */
export async function openDispute(
  tx: Executor,
  input: { cardholderId: string; authorizationId: string; reason: string; amountMinor?: bigint | undefined },
  settings: { disputeWindowSeconds: number },
  clock: Clock,
): Promise<BankDisputeRow> {
  const auth = await lockAuthorization(tx, input.authorizationId);
  // Another cardholder's payment is the same answer as one that does not exist.
  if (!auth || auth.cardholderId !== input.cardholderId || !auth.accountId) throw new DomainError('not_found');
  if (!(DISPUTE_REASONS as string[]).includes(input.reason))
    throw new DomainError('validation.failed', { field: 'reason' });
  const open = auth.capturedMinor - auth.refundedMinor;
  if (!['captured', 'refunded'].includes(auth.status) || open <= 0n)
    throw new DomainError('dispute.not_allowed', { reason: 'not_captured' });
  const amount = input.amountMinor ?? open;
  if (amount <= 0n || amount > open)
    throw new DomainError('dispute.not_allowed', { reason: 'amount', open: open.toString() });
  const now = clock.now();
  const dueBy = new Date(now.getTime() + settings.disputeWindowSeconds * 1000);
  const inserted = await tx
    .insert(disputes)
    .values({
      id: newId('bdsp', now),
      authorizationId: auth.id,
      cardholderId: input.cardholderId,
      amountMinor: amount,
      currency: auth.currency,
      reason: input.reason,
      status: 'open',
      evidenceDueBy: dueBy,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning();
  const dispute = inserted[0];
  if (!dispute) throw new DomainError('dispute.not_allowed', { reason: 'already_disputed' });
  await creditChargeback(tx, auth.accountId, dispute, auth.merchantName, now);
  await enqueueCallback(
    tx,
    {
      type: 'dispute.opened',
      dispute_ref: dispute.id,
      gateway_ref: auth.gatewayRef,
      amount_minor: amount.toString(),
      currency: auth.currency,
      reason: input.reason as DisputeReason,
      evidence_due_by: dueBy.toISOString(),
    },
    clock,
    auth.id,
  );
  await enqueue(
    tx,
    {
      task: BANK_TASKS.disputeDeadline,
      payload: { disputeId: dispute.id },
      key: `dispute-deadline:${dispute.id}`,
      runAt: dueBy,
    },
    clock,
  );
  return dispute;
}
