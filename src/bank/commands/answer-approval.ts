// The cardholder answers an approval request in the bank app. Only their own request (another
// cardholder's is "not found"), only once, and only before it expires: a late answer changes nothing.
import { eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { isApprovalExpired } from '../domain/approval.machine.ts';
import { lockAuthorization } from '../storage/authorizations.ts';
import { approvalRequests } from '../storage/tables.ts';
import { decidePending } from './decide-pending.ts';

export type ApprovalAnswer = 'approve' | 'decline';

/** Applies the cardholder's answer; returns the request's new status. */
export async function answerApproval(
  tx: Executor,
  input: { approvalId: string; cardholderId: string; answer: ApprovalAnswer },
  clock: Clock,
): Promise<{ status: string; authorizationId: string }> {
  const [peek] = await tx.select().from(approvalRequests).where(eq(approvalRequests.id, input.approvalId));
  if (!peek || peek.cardholderId !== input.cardholderId) throw new DomainError('access.denied');
  // Lock order everywhere: the authorisation first, then its approval request.
  const authorization = await lockAuthorization(tx, peek.authorizationId);
  const [request] = await tx
    .select()
    .from(approvalRequests)
    .where(eq(approvalRequests.id, input.approvalId))
    .for('update');
  if (!request || !authorization) throw new DomainError('access.denied');
  if (request.status === 'expired') throw new DomainError('approval.expired');
  if (request.status !== 'pending') throw new DomainError('approval.already_answered', { status: request.status });
  if (isApprovalExpired(request.expiresAt, clock.now())) throw new DomainError('approval.expired');
  await decidePending(
    tx,
    authorization,
    input.answer === 'approve' ? { kind: 'approve' } : { kind: 'decline', reason: 'approval_declined' },
    input.answer,
    clock,
  );
  return { status: input.answer === 'approve' ? 'approved' : 'declined', authorizationId: authorization.id };
}
