// The merchant answers a dispute: evidence, or acceptance.
//
// Evidence is recorded with the dispute's change, its event and a durable job that forwards it to the
// bank (forward-dispute.ts), all in one transaction: a gateway that dies after answering 200 still
// forwards it. The bank is then also asked inline, so that it usually hears at once; it decides later.
//
// An acceptance closes the dispute, so the bank decides it at once: the gateway asks the bank first,
// and records the outcome the bank answers — lost (accepted), or won when the cardholder withdrew the
// dispute before the acceptance reached the bank. Recording "lost" before the bank knew let the two
// disagree: a withdrawal racing the acceptance closed the dispute won at the bank, lost here, and the
// merchant's money went nowhere. The bank unreachable: 503, nothing recorded, the merchant tries again.
// A gateway that dies after the bank accepted is told by the bank's own dispute.closed callback.
import { DomainError } from '../../core/errors.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { disputeMachine, evidenceProblem, type Evidence } from '../domain/dispute.machine.ts';
import { disputeCloseTransfers } from '../domain/ledger.dispute.ts';
import { FORWARD_DISPUTE_TASK } from '../jobs/task-names.ts';
import { appendDisputeEvent } from '../storage/dispute-events.ts';
import type { DisputeRow, StripeEvidenceFields } from '../storage/dispute-tables.ts';
import { lockDispute, markForwarded, moveDispute } from '../storage/disputes.ts';
import { postTransfers } from '../storage/ledger.ts';
import { findSession } from '../storage/sessions.ts';
import type { GatewayDeps } from './deps.ts';
import { forwardDispute } from './forward-dispute.ts';

type Deps = Pick<GatewayDeps, 'database' | 'clock' | 'issuer' | 'log'>;

async function lockOpen(tx: Executor, merchantId: string, id: string): Promise<DisputeRow> {
  const d = await lockDispute(tx, { id, merchantId });
  if (d.status !== 'needs_response') throw new DomainError('dispute.not_open', { status: d.status });
  return d;
}

async function forwardNow(deps: Deps, dispute: DisputeRow): Promise<DisputeRow> {
  try {
    return await forwardDispute(deps, dispute.id);
  } catch (err) {
    deps.log?.warn({ disputeId: dispute.id, err }, 'forwarding the dispute answer failed; the job will retry');
    return dispute;
  }
}

/** Submits evidence (forwarded to the bank); 409 dispute.not_open unless the dispute needs a response. */
export async function submitDisputeEvidence(
  deps: Deps,
  merchantId: string,
  disputeId: string,
  input: { evidence: Evidence; stripeEvidence?: StripeEvidenceFields },
): Promise<DisputeRow> {
  const problem = evidenceProblem(input.evidence);
  if (problem) throw new DomainError('dispute.evidence_invalid', { reason: problem });
  const { clock } = deps;
  const updated = await deps.database.transaction(async (tx) => {
    const d = await lockOpen(tx, merchantId, disputeId);
    const now = clock.now();
    const row = await moveDispute(tx, d, 'submit_evidence', now, {
      evidence: input.evidence,
      submissionCount: d.submissionCount + 1,
      ...(input.stripeEvidence ? { stripeEvidence: input.stripeEvidence } : {}),
    });
    const session = await findSession(tx, row.sessionId);
    await appendDisputeEvent(tx, { dispute: row, session: session!, type: 'dispute.updated' }, clock);
    await enqueue(
      tx,
      { task: FORWARD_DISPUTE_TASK, payload: { disputeId }, key: `dispute:${disputeId}`, maxAttempts: 25 },
      clock,
    );
    return row;
  });
  return forwardNow(deps, updated);
}

/**
 * Accepts the dispute: the bank records the acceptance (or answers that the dispute was already
 * withdrawn), then the gateway closes it as the bank decided, with its transfer and event.
 */
export async function acceptDispute(deps: Deps, merchantId: string, disputeId: string): Promise<DisputeRow> {
  const { clock, issuer } = deps;
  const open = await deps.database.transaction((tx) => lockOpen(tx, merchantId, disputeId));
  if (!issuer.acceptDispute) throw new DomainError('upstream.unavailable', { upstream: 'bank', reason: 'no_disputes' });
  const outcome = await issuer.acceptDispute(open.bankDisputeRef);
  return deps.database.transaction(async (tx) => {
    const d = await lockDispute(tx, { id: disputeId, merchantId });
    // The bank's dispute.closed callback may have closed it meanwhile, with this same outcome.
    if (disputeMachine.isTerminal(d.status)) return d;
    const now = clock.now();
    const row = await moveDispute(tx, d, outcome === 'lost' ? 'accept' : 'bank_won', now);
    await markForwarded(tx, row.id, now);
    await postTransfers(tx, disputeCloseTransfers(row, outcome), now);
    const session = await findSession(tx, row.sessionId);
    await appendDisputeEvent(tx, { dispute: row, session: session!, type: 'dispute.closed' }, clock);
    return { ...row, forwardedAt: now };
  });
}
