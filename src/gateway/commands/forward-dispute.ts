// Forwards the merchant's answer to a dispute to the bank (inline after it is recorded, and by a job
// until done): evidence when some was submitted, else the acceptance (an acceptance is now asked of the
// bank before it is recorded, respond-to-dispute.ts; the job still carries one recorded before that). The bank takes either once per
// dispute and answers a repeat as the first, so the inline call and the job may both reach it.
import { DomainError } from '../../core/errors.ts';
import type { DisputeRow } from '../storage/dispute-tables.ts';
import { findDispute, markForwarded } from '../storage/disputes.ts';
import type { GatewayDeps } from './deps.ts';

/** Tells the bank the merchant's answer and records that it did; throws (to be retried) when the bank cannot be reached. */
export async function forwardDispute(
  deps: Pick<GatewayDeps, 'database' | 'issuer' | 'clock'>,
  disputeId: string,
): Promise<DisputeRow> {
  const d = await findDispute(deps.database.db, disputeId);
  if (!d) throw new DomainError('not_found', { resource: 'dispute' });
  if (d.forwardedAt) return d;
  const { issuer } = deps;
  if (d.evidence) {
    if (!issuer.submitDisputeEvidence)
      throw new DomainError('upstream.unavailable', { upstream: 'bank', reason: 'no_disputes' });
    await issuer.submitDisputeEvidence(d.bankDisputeRef, d.evidence);
  } else if (d.status === 'lost') {
    if (!issuer.acceptDispute)
      throw new DomainError('upstream.unavailable', { upstream: 'bank', reason: 'no_disputes' });
    await issuer.acceptDispute(d.bankDisputeRef);
  } else return d;
  const now = deps.clock.now();
  await markForwarded(deps.database.db, d.id, now);
  return { ...d, forwardedAt: now };
}
