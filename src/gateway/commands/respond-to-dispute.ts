// The merchant answers a dispute: evidence, or acceptance. Recorded with the dispute's change, its
// ledger transfer (acceptance: lost at once), its event and a durable job that forwards the answer to
// the bank (forward-dispute.ts), all in one transaction: a gateway that dies after answering 200 still
// forwards it. The bank is then also asked inline, so that it usually hears at once.
import { DomainError } from '../../core/errors.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { evidenceProblem, type Evidence } from '../domain/dispute.machine.ts';
import { disputeCloseTransfers } from '../domain/ledger.dispute.ts';
import { FORWARD_DISPUTE_TASK } from '../jobs/task-names.ts';
import { appendDisputeEvent } from '../storage/dispute-events.ts';
import type { DisputeRow, StripeEvidenceFields } from '../storage/dispute-tables.ts';
import { lockDispute, moveDispute } from '../storage/disputes.ts';
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

/** Accepts the dispute: lost at once (the reserve goes back to the cardholder's side), and the bank is told. */
export async function acceptDispute(deps: Deps, merchantId: string, disputeId: string): Promise<DisputeRow> {
  const { clock } = deps;
  const updated = await deps.database.transaction(async (tx) => {
    const d = await lockOpen(tx, merchantId, disputeId);
    const now = clock.now();
    const row = await moveDispute(tx, d, 'accept', now);
    await postTransfers(tx, disputeCloseTransfers(row, 'lost'), now);
    const session = await findSession(tx, row.sessionId);
    await appendDisputeEvent(tx, { dispute: row, session: session!, type: 'dispute.closed' }, clock);
    await enqueue(
      tx,
      { task: FORWARD_DISPUTE_TASK, payload: { disputeId }, key: `dispute:${disputeId}`, maxAttempts: 25 },
      clock,
    );
    return row;
  });
  return forwardNow(deps, updated);
}
