// Deciding a pending authorisation — the cardholder's answer, the request's expiry, the processing
// delay — with its effects in one transaction: the hold released on decline, the approval request
// closed, the callback to the gateway queued, the cardholder's app told.
import { eq, sql } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { publish } from '../../platform/realtime/index.ts';
import { authorizationMachine, type AuthorizationStatus, type DeclineReason } from '../domain/authorization.machine.ts';
import { approvalMachine, type ApprovalEvent, type ApprovalStatus } from '../domain/approval.machine.ts';
import { accounts, approvalRequests, authorizations } from './bank.schema.ts';
import type { AuthorizationRow } from './authorization-view.ts';
import { cardholderRoom } from './bank-settings.ts';
import { enqueueCallback } from './gateway-callbacks.ts';

export type PendingOutcome = { readonly kind: 'approve' } | { readonly kind: 'decline'; readonly reason: DeclineReason };

/** Locks an authorisation row for the rest of the transaction. */
export async function lockAuthorization(tx: Executor, id: string): Promise<AuthorizationRow | undefined> {
  const [row] = await tx.select().from(authorizations).where(eq(authorizations.id, id)).for('update');
  return row;
}

/** Releases what an authorisation holds on its account. */
export async function releaseHold(tx: Executor, row: AuthorizationRow): Promise<void> {
  if (row.heldMinor === 0n || row.accountId === null) return;
  await tx
    .update(accounts)
    .set({ heldMinor: sql`${accounts.heldMinor} - ${row.heldMinor}` })
    .where(eq(accounts.id, row.accountId));
}

/** Moves the authorisation's approval request (if still pending) with `event`, and tells the app. */
export async function closeApprovalRequest(tx: Executor, row: AuthorizationRow, event: ApprovalEvent, clock: Clock): Promise<void> {
  const [request] = await tx.select().from(approvalRequests).where(eq(approvalRequests.authorizationId, row.id)).for('update');
  if (!request || request.status !== 'pending') return;
  const next = approvalMachine.apply(request.status as ApprovalStatus, event);
  await tx.update(approvalRequests).set({ status: next.state, answeredAt: clock.now() }).where(eq(approvalRequests.id, request.id));
  await publish(tx, cardholderRoom(request.cardholderId), { type: 'approval.resolved', approvalId: request.id, status: next.state }, clock);
}

/**
 * Decides a pending authorisation (already locked by the caller); a no-op returning the row as it
 * is when it is no longer pending, because jobs run at least once and answers race with expiry.
 */
export async function settlePending(
  tx: Executor,
  row: AuthorizationRow,
  outcome: PendingOutcome,
  approvalEvent: ApprovalEvent | undefined,
  clock: Clock,
): Promise<AuthorizationRow> {
  if (row.status !== 'pending') return row;
  const now = clock.now();
  const next = authorizationMachine.apply(row.status as AuthorizationStatus, outcome.kind);
  if (outcome.kind === 'decline') await releaseHold(tx, row);
  const [updated] = await tx
    .update(authorizations)
    .set({
      status: next.state,
      declineReason: outcome.kind === 'decline' ? outcome.reason : null,
      heldMinor: outcome.kind === 'decline' ? 0n : row.heldMinor,
      decidedAt: now,
      updatedAt: now,
    })
    .where(eq(authorizations.id, row.id))
    .returning();
  await enqueueCallback(
    tx,
    outcome.kind === 'approve'
      ? { type: 'authorization.approved', authorization_id: row.id, gateway_ref: row.gatewayRef }
      : { type: 'authorization.declined', authorization_id: row.id, gateway_ref: row.gatewayRef, decline_reason: outcome.reason },
    clock,
  );
  if (approvalEvent !== undefined) await closeApprovalRequest(tx, row, approvalEvent, clock);
  return updated!;
}
