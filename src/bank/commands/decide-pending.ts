// Deciding a pending authorisation — the cardholder's answer, the request's expiry, the processing
// delay — with its effects in one transaction: the hold released on decline, the approval request
// closed, the callback to the gateway queued, the cardholder's app told.
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { DeclineReason } from '../domain/authorization.machine.ts';
import type { ApprovalEvent } from '../domain/approval.machine.ts';
import { releaseHold } from '../storage/accounts.ts';
import type { AuthorizationRow } from '../storage/authorizations.ts';
import { moveAuthorization } from './authorization-status.ts';
import { closeApprovalRequest } from './close-approval.ts';
import { enqueueCallback } from './enqueue-callback.ts';

export type PendingOutcome =
  | { readonly kind: 'approve' }
  | { readonly kind: 'decline'; readonly reason: DeclineReason };

/**
 * Decides a pending authorisation (already locked by the caller); a no-op returning the row as it
 * is when it is no longer pending, because jobs run at least once and answers race with expiry.
 */
export async function decidePending(
  tx: Executor,
  row: AuthorizationRow,
  outcome: PendingOutcome,
  approvalEvent: ApprovalEvent | undefined,
  clock: Clock,
): Promise<AuthorizationRow> {
  if (row.status !== 'pending') return row;
  const now = clock.now();
  const updated = await moveAuthorization(tx, row, outcome.kind, {
    declineReason: outcome.kind === 'decline' ? outcome.reason : null,
    heldMinor: outcome.kind === 'decline' ? 0n : row.heldMinor,
    decidedAt: now,
    updatedAt: now,
  });
  if (outcome.kind === 'decline') await releaseHold(tx, row, now);
  await enqueueCallback(
    tx,
    outcome.kind === 'approve'
      ? { type: 'authorization.approved', authorization_id: row.id, gateway_ref: row.gatewayRef }
      : {
          type: 'authorization.declined',
          authorization_id: row.id,
          gateway_ref: row.gatewayRef,
          decline_reason: outcome.reason,
        },
    clock,
  );
  if (approvalEvent !== undefined) await closeApprovalRequest(tx, row, approvalEvent, clock);
  return updated;
}
