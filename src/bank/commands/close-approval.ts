// The one writer of approval_requests.status: an approval request, still pending, is answered,
// expires or is cancelled together with its authorisation (whose row the caller has locked first:
// the lock order everywhere is the authorisation, then its approval request). The machine decides;
// the cardholder's app is told. Requests are inserted pending by authorize.ts.
import { and, eq } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { publish } from '../../platform/realtime/index.ts';
import { approvalMachine, type ApprovalEvent, type ApprovalStatus } from '../domain/approval.machine.ts';
import type { AuthorizationRow } from '../storage/authorizations.ts';
import { cardholderRoom } from '../storage/bank-settings.ts';
import { approvalRequests } from '../storage/tables.ts';

/** Moves the authorisation's approval request (if still pending) with `event`, and tells the app. */
export async function closeApprovalRequest(
  tx: Executor,
  authorization: AuthorizationRow,
  event: ApprovalEvent,
  clock: Clock,
): Promise<void> {
  const [request] = await tx
    .select()
    .from(approvalRequests)
    .where(eq(approvalRequests.authorizationId, authorization.id))
    .for('update');
  if (!request || request.status !== 'pending') return;
  const next = approvalMachine.apply(request.status as ApprovalStatus, event);
  await tx
    .update(approvalRequests)
    .set({ status: next.state, answeredAt: clock.now() })
    .where(and(eq(approvalRequests.id, request.id), eq(approvalRequests.status, request.status)));
  await publish(
    tx,
    cardholderRoom(request.cardholderId),
    { type: 'approval.resolved', approvalId: request.id, status: next.state },
    clock,
  );
}
