// The expiry job's use case: an approval request nobody answered in time declines its authorisation
// (and the request expires with it). A no-op once the request or the authorisation was decided.
import { eq } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { lockAuthorization } from '../storage/authorizations.ts';
import { approvalRequests } from '../storage/tables.ts';
import { decidePending } from './decide-pending.ts';

/** Declines the authorisation of an unanswered approval request. */
export async function expireApproval(tx: Executor, approvalId: string, clock: Clock): Promise<void> {
  const [peek] = await tx.select().from(approvalRequests).where(eq(approvalRequests.id, approvalId));
  if (!peek || peek.status !== 'pending') return;
  const authorization = await lockAuthorization(tx, peek.authorizationId);
  if (!authorization) return;
  await decidePending(tx, authorization, { kind: 'decline', reason: 'approval_expired' }, 'expire', clock);
}
