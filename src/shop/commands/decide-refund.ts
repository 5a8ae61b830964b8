// A second staff member approves or rejects a refund above the approval threshold.
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { checkApprover } from '../domain/refund.rule.ts';
import type { RefundRow } from '../storage/refunds.ts';
import { enqueueExecution, lockRefund, moveRefund } from './refund-transition.ts';

/** A second, different staff member approves a refund above the threshold; it is queued for the gateway. */
export async function approveRefund(
  database: Database,
  refundId: string,
  staffId: string,
  clock: Clock,
): Promise<RefundRow> {
  const now = clock.now();
  return database.transaction(async (tx) => {
    const row = await lockRefund(tx, refundId);
    checkApprover(row, staffId);
    const updated = await moveRefund(tx, row, 'approve', staffId, now, { approvedBy: staffId });
    await enqueueExecution(tx, row.id, clock);
    return updated;
  });
}

/** A second staff member rejects a refund awaiting approval; its amount is released. */
export async function rejectRefund(
  database: Database,
  refundId: string,
  staffId: string,
  clock: Clock,
): Promise<RefundRow> {
  const now = clock.now();
  return database.transaction(async (tx) => {
    const row = await lockRefund(tx, refundId);
    checkApprover(row, staffId);
    return moveRefund(tx, row, 'reject', staffId, now, { approvedBy: staffId, failure: 'rejected by the approver' });
  });
}
