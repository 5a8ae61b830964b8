// Reconciliation of disputes: those still awaiting a response here are read again at the gateway
// (when it can be asked) and what they are there is applied through the intake's own path, so a lost
// `dispute.updated` or `dispute.closed` is recovered. A gateway that cannot be reached is skipped this cycle.
import { applyDisputeEvent } from '../commands/apply-dispute-event.ts';
import type { CheckPaymentDeps } from '../commands/check-payment.ts';
import { disputeNewsFromSnapshot } from '../domain/gateway.port.ts';
import { disputesByDeadline } from '../storage/disputes.ts';

/** Reads the disputes still needing a response (soonest deadline first, at most `limit`); returns how many were read. */
export async function reconcileOpenDisputes(deps: CheckPaymentDeps, limit = 50): Promise<number> {
  const read = deps.gateway.getDispute?.bind(deps.gateway);
  if (!read) return 0;
  const open = await disputesByDeadline(deps.database.db, ['needs_response', 'under_review'], limit);
  let n = 0;
  for (const { dispute } of open) {
    const snapshot = await read(dispute.id).catch(() => undefined);
    if (!snapshot) continue;
    await applyDisputeEvent(deps.database, disputeNewsFromSnapshot(snapshot), deps.clock);
    n++;
  }
  return n;
}
