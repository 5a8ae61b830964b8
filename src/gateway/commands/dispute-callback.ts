// The bank's dispute callbacks: `dispute.opened` (a cardholder disputed a captured payment) and
// `dispute.closed` (the bank decided). Each is applied once: its dedupe row, the dispute's change, the
// ledger transfer and the events commit together, so a retried callback changes nothing.
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Executor } from '../../platform/db/database.ts';
import { disputeMachine, type DisputeReason } from '../domain/dispute.machine.ts';
import { disputeCloseTransfers, disputeOpenTransfers } from '../domain/ledger.dispute.ts';
import { recordBankCallback } from '../storage/bank-callbacks.ts';
import { appendDisputeEvent } from '../storage/dispute-events.ts';
import { insertDispute, lockDispute, moveDispute } from '../storage/disputes.ts';
import { postTransfers } from '../storage/ledger.ts';
import { findSession, lockSession } from '../storage/sessions.ts';
import type { GatewayDeps } from './deps.ts';

export type DisputeCallback =
  | {
      readonly callbackId: string;
      readonly type: 'dispute.opened';
      readonly disputeRef: string;
      readonly gatewayRef: string;
      readonly amountMinor: bigint;
      readonly currency: string;
      readonly reason: DisputeReason;
      readonly evidenceDueBy: Date;
    }
  | {
      readonly callbackId: string;
      readonly type: 'dispute.closed';
      readonly disputeRef: string;
      readonly outcome: 'won' | 'lost';
    };

type Deps = Pick<GatewayDeps, 'database' | 'clock'>;

const DISPUTABLE = new Set(['captured', 'partially_refunded', 'refunded']);

/** Applies a dispute callback once; returns whether it was a duplicate of one that took effect. */
export async function receiveDisputeCallback(deps: Deps, callback: DisputeCallback): Promise<{ duplicate: boolean }> {
  return deps.database.transaction(async (tx) => {
    const first = await recordBankCallback(tx, {
      callbackId: callback.callbackId,
      type: callback.type,
      authorizationId: callback.disputeRef,
      receivedAt: deps.clock.now(),
    });
    if (!first) return { duplicate: true };
    if (callback.type === 'dispute.opened') await openDispute(deps, tx, callback);
    else await closeDispute(deps, tx, callback);
    return { duplicate: false };
  });
}

async function openDispute(
  deps: Deps,
  tx: Executor,
  c: Extract<DisputeCallback, { type: 'dispute.opened' }>,
): Promise<void> {
  // Locked, as a refund locks it: a refund and a dispute racing for the same money serialise, and the
  // second sees what the first took.
  const session = await lockSession(tx, c.gatewayRef);
  const open = session.capturedMinor - session.refundedMinor;
  if (!DISPUTABLE.has(session.status) || session.currency !== c.currency || c.amountMinor <= 0n || c.amountMinor > open)
    throw new DomainError('dispute.not_allowed', { session: session.id, status: session.status });
  const now = deps.clock.now();
  const { row, created } = await insertDispute(tx, {
    id: newId('dp', now),
    merchantId: session.merchantId,
    sessionId: session.id,
    bankDisputeRef: c.disputeRef,
    amountMinor: c.amountMinor,
    currency: c.currency,
    reason: c.reason,
    evidenceDueBy: c.evidenceDueBy,
    now,
  });
  if (!created) return;
  await postTransfers(tx, disputeOpenTransfers(row), now);
  await appendDisputeEvent(tx, { dispute: row, session, type: 'dispute.created' }, deps.clock);
}

async function closeDispute(
  deps: Deps,
  tx: Executor,
  c: Extract<DisputeCallback, { type: 'dispute.closed' }>,
): Promise<void> {
  const dispute = await lockDispute(tx, { bankDisputeRef: c.disputeRef });
  // Closed already (the merchant accepted, and this is the bank's own verdict on it): nothing to do.
  if (disputeMachine.isTerminal(dispute.status)) return;
  const now = deps.clock.now();
  const closed = await moveDispute(tx, dispute, c.outcome === 'won' ? 'bank_won' : 'bank_lost', now);
  await postTransfers(tx, disputeCloseTransfers(closed, c.outcome), now);
  const session = await findSession(tx, closed.sessionId);
  await appendDisputeEvent(tx, { dispute: closed, session: session!, type: 'dispute.closed' }, deps.clock);
}
