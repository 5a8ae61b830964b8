/**
 * Staff answer a dispute: submit evidence (their text and files, with the order's receipt and audit
 * trail attached automatically) or accept it. Both go to the gateway through the port first — the
 * network call is never inside a transaction — and then, in one transaction, the dispute moves by its
 * machine with staff as the actor (evidence: under_review; accepted: lost, the order dispute_lost),
 * and whatever the gateway's answer says beyond that (a decision made at once) follows as news through
 * the intake's own path. A dispute no longer open is refused (`dispute.not_open`) and re-read.
 */
import { eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { disputeEventTo, isOpenForResponse } from '../domain/dispute.machine.ts';
import {
  disputeNewsFromSnapshot,
  type DisputeSnapshot,
  type EvidenceFile,
  type GatewayPort,
} from '../domain/gateway.port.ts';
import { automaticEvidence, getDispute, type DisputeRow } from '../storage/disputes.ts';
import { disputes, invoices } from '../storage/tables.ts';
import { applyDisputeEvent } from './apply-dispute-event.ts';
import { moveDispute } from './dispute-transition.ts';

export interface RespondDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly gateway: GatewayPort | undefined;
}

/** The dispute, still awaiting a response, or why not. */
async function openDispute(deps: RespondDeps, disputeId: string): Promise<DisputeRow> {
  const row = await getDispute(deps.database.db, disputeId);
  if (!row) throw new DomainError('not_found', { resource: 'dispute' });
  if (!isOpenForResponse(row.status)) throw new DomainError('dispute.not_open');
  return row;
}

/** Calls the gateway; when it says the dispute is closed already, reads it again and applies what it is. */
async function askGateway(
  deps: RespondDeps,
  disputeId: string,
  run: (gateway: GatewayPort) => Promise<DisputeSnapshot> | undefined,
): Promise<DisputeSnapshot> {
  const gateway = deps.gateway;
  const pending = gateway ? run(gateway) : undefined;
  if (!gateway || !pending)
    throw new DomainError('upstream.unavailable', { reason: 'the gateway answers no disputes' });
  try {
    return await pending;
  } catch (err) {
    if (err instanceof DomainError && err.code === 'dispute.not_open' && gateway.getDispute) {
      const now = await gateway.getDispute(disputeId).catch(() => undefined);
      if (now) await applyDisputeEvent(deps.database, disputeNewsFromSnapshot(now), deps.clock);
    }
    throw err;
  }
}

/** Locks the disputed invoice, then the dispute (the intake's order, so the two never deadlock). */
async function lockDispute(tx: Executor, row: DisputeRow): Promise<DisputeRow> {
  await tx.select({ id: invoices.id }).from(invoices).where(eq(invoices.id, row.invoiceId)).for('update');
  const [locked] = await tx.select().from(disputes).where(eq(disputes.id, row.id)).for('update');
  return locked!;
}

/** Submits staff's evidence (text and their files; the receipt and audit trail are added) and records it. */
export async function submitDisputeEvidence(
  deps: RespondDeps,
  input: { disputeId: string; staffId: string; text: string; files: readonly EvidenceFile[] },
): Promise<DisputeRow> {
  const row = await openDispute(deps, input.disputeId);
  const files = [...(await automaticEvidence(deps.database.db, row)), ...input.files];
  const answer = await askGateway(deps, row.id, (g) => g.submitDisputeEvidence?.(row.id, { text: input.text, files }));
  const now = deps.clock.now();
  const evidence = {
    evidenceSubmittedAt: now,
    evidenceSubmittedBy: input.staffId,
    evidenceText: input.text,
    evidenceFiles: files.map((f) => ({ name: f.name, contentType: f.contentType, bytes: f.content.byteLength })),
  };
  await deps.database.transaction(async (tx) => {
    const locked = await lockDispute(tx, row);
    // The gateway's news of it may have come first; the evidence is recorded either way.
    if (locked.status === 'needs_response') await moveDispute(tx, locked, 'review', input.staffId, now, evidence);
    else await tx.update(disputes).set(evidence).where(eq(disputes.id, row.id));
  });
  await applyDisputeEvent(deps.database, disputeNewsFromSnapshot(answer), deps.clock);
  return (await getDispute(deps.database.db, row.id))!;
}

/** Accepts the dispute at the gateway (the money goes back to the cardholder) and records it. */
export async function acceptDispute(
  deps: RespondDeps,
  input: { disputeId: string; staffId: string },
): Promise<DisputeRow> {
  const row = await openDispute(deps, input.disputeId);
  const answer = await askGateway(deps, row.id, (g) => g.acceptDispute?.(row.id));
  const now = deps.clock.now();
  await deps.database.transaction(async (tx) => {
    const locked = await lockDispute(tx, row);
    const event = disputeEventTo(locked.status, answer.status);
    // Won: the cardholder had withdrawn it before the acceptance reached the bank; nothing was accepted.
    const accepted = answer.status === 'lost' ? { acceptedAt: now, acceptedBy: input.staffId } : {};
    if (event) await moveDispute(tx, locked, event, input.staffId, now, accepted);
  });
  await applyDisputeEvent(deps.database, disputeNewsFromSnapshot(answer), deps.clock);
  return (await getDispute(deps.database.db, row.id))!;
}
