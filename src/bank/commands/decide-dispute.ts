// How a dispute ends at the bank: the merchant's evidence or acceptance (from the gateway), the
// cardholder's withdrawal (in the app), or the deadline (a job). Each moves the dispute through its
// machine and, when that closes it, settles the provisional credit and tells the gateway
// (`dispute.closed`, won = the merchant won), all in the caller's transaction. An answer that finds the
// dispute no longer open (a retried forward, or one that arrived after the decision) returns it as it stands.
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import {
  bankDisputeMachine,
  evidenceEvent,
  type BankDisputeEvent,
  type BankDisputeStatus,
} from '../domain/dispute.machine.ts';
import { findAuthorization } from '../storage/authorizations.ts';
import { settleChargeback } from './dispute-money.ts';
import { lockBankDispute, moveBankDispute, type BankDisputeRow } from './dispute-status.ts';
import { enqueueCallback } from './enqueue-callback.ts';

const DECIDED_BY: Record<BankDisputeEvent, string | null> = {
  submit_evidence: null,
  evidence_wins: 'evidence',
  evidence_loses: 'evidence',
  accept: 'accepted',
  deadline: 'deadline',
  withdraw: 'withdrawn',
};

async function decide(
  tx: Executor,
  d: BankDisputeRow,
  event: BankDisputeEvent,
  fields: { evidenceText?: string; evidenceFiles?: BankDisputeRow['evidenceFiles'] },
  clock: Clock,
): Promise<BankDisputeRow> {
  const now = clock.now();
  const closes = bankDisputeMachine.isTerminal(bankDisputeMachine.apply(d.status as BankDisputeStatus, event).state);
  const moved = await moveBankDispute(tx, d, event, {
    ...fields,
    updatedAt: now,
    decidedBy: DECIDED_BY[event],
    ...(closes ? { decidedAt: now } : {}),
  });
  if (!closes) return moved;
  const auth = await findAuthorization(tx, moved.authorizationId);
  const outcome = moved.status === 'won' ? 'won' : 'lost';
  await settleChargeback(tx, auth!.accountId!, moved, outcome, auth!.merchantName, now);
  await enqueueCallback(tx, { type: 'dispute.closed', dispute_ref: moved.id, outcome }, clock, moved.authorizationId);
  return moved;
}

/** The gateway forwards the merchant's evidence: decided at once by the test conventions, else at the deadline. */
export async function receiveEvidence(
  tx: Executor,
  disputeId: string,
  evidence: { text: string; files: NonNullable<BankDisputeRow['evidenceFiles']> },
  clock: Clock,
): Promise<BankDisputeRow> {
  const d = await lockBankDispute(tx, disputeId);
  // Taken once; evidence arriving after the dispute was decided (the deadline passed while the
  // gateway's forward was retrying, or the cardholder withdrew) changes nothing: the callback tells the verdict.
  if (d.status !== 'open') return d;
  return decide(
    tx,
    d,
    evidenceEvent(evidence.text),
    { evidenceText: evidence.text, evidenceFiles: evidence.files },
    clock,
  );
}

/** The merchant accepts: lost at once. A repeat, or an acceptance after the dispute was decided, changes nothing. */
export async function receiveAcceptance(tx: Executor, disputeId: string, clock: Clock): Promise<BankDisputeRow> {
  const d = await lockBankDispute(tx, disputeId);
  if (d.status !== 'open') return d;
  return decide(tx, d, 'accept', {}, clock);
}

/** The cardholder withdraws their dispute (only their own): the merchant wins. */
export async function withdrawDispute(
  tx: Executor,
  input: { disputeId: string; cardholderId: string },
  clock: Clock,
): Promise<BankDisputeRow> {
  const d = await lockBankDispute(tx, input.disputeId);
  if (d.cardholderId !== input.cardholderId) throw new DomainError('not_found');
  if (bankDisputeMachine.isTerminal(d.status as BankDisputeStatus)) throw new DomainError('dispute.not_open');
  return decide(tx, d, 'withdraw', {}, clock);
}

/** The deadline passed (a job): evidence submitted → won, none → lost; nothing once decided. */
export async function disputeDeadline(tx: Executor, disputeId: string, clock: Clock): Promise<void> {
  const d = await lockBankDispute(tx, disputeId);
  if (bankDisputeMachine.isTerminal(d.status as BankDisputeStatus)) return;
  await decide(tx, d, 'deadline', {}, clock);
}
