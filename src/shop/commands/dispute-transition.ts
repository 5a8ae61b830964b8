// The one writer of a dispute's status: opened once (insert), then moved by its machine; each step
// audited, and the disputed invoice (with its order, through the one rule) following in the same
// transaction: paid -> disputed on opening, back to paid when won, dispute_lost when lost.
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { disputeMachine, type DisputeEvent } from '../domain/dispute.machine.ts';
import type { DisputeSnapshot } from '../domain/gateway.port.ts';
import { appendAudit } from '../storage/audit.ts';
import type { DisputeRow } from '../storage/disputes.ts';
import type { InvoiceRow } from '../storage/orders.ts';
import { disputes, invoices } from '../storage/tables.ts';
import { applyInvoiceEvent } from './invoice-transition.ts';

/** What may be written beside a move: who sent evidence and what, or who accepted. */
type DisputeExtra = Partial<
  Pick<
    DisputeRow,
    'evidenceSubmittedAt' | 'evidenceSubmittedBy' | 'evidenceText' | 'evidenceFiles' | 'acceptedAt' | 'acceptedBy'
  >
>;

/** Records a new dispute (needs_response) of a paid invoice; the invoice (locked by the caller) becomes disputed. */
export async function openDispute(
  tx: Executor,
  snapshot: DisputeSnapshot,
  invoice: InvoiceRow,
  actor: string,
  now: Date,
): Promise<DisputeRow> {
  const [row] = await tx
    .insert(disputes)
    .values({
      id: snapshot.disputeId,
      orderId: invoice.orderId,
      invoiceId: invoice.id,
      sessionId: snapshot.sessionId,
      amountMinor: snapshot.amount.minor,
      currency: snapshot.amount.currency,
      reason: snapshot.reason.slice(0, 100),
      status: 'needs_response',
      evidenceDueBy: snapshot.evidenceDueBy,
      openedAt: snapshot.created,
      updatedAt: now,
    })
    .returning();
  await appendAudit(
    tx,
    {
      actor,
      action: 'dispute.opened',
      subject: row!.id,
      data: {
        to: 'needs_response',
        orderId: invoice.orderId,
        invoiceId: invoice.id,
        amountMinor: snapshot.amount.minor.toString(),
        currency: snapshot.amount.currency,
        reason: row!.reason,
        evidenceDueBy: snapshot.evidenceDueBy.toISOString(),
      },
    },
    now,
  );
  // A fully refunded payment disputed anyway stays refunded; only a paid invoice becomes disputed.
  if (invoice.status === 'paid') await applyInvoiceEvent(tx, invoice.id, 'dispute', actor, now, invoice);
  return row!;
}

/** Moves a dispute (read FOR UPDATE by the caller) by one event of its machine; a decision moves the invoice. */
export async function moveDispute(
  tx: Executor,
  row: DisputeRow,
  event: DisputeEvent,
  actor: string,
  now: Date,
  extra: DisputeExtra = {},
): Promise<DisputeRow> {
  const next = disputeMachine.apply(row.status, event).state;
  const closing = next === 'won' || next === 'lost';
  const [updated] = await tx
    .update(disputes)
    .set({ ...extra, status: next, updatedAt: now, ...(closing ? { closedAt: now } : {}) })
    .where(eq(disputes.id, row.id))
    .returning();
  await appendAudit(
    tx,
    {
      actor,
      action: `dispute.${event}`,
      subject: row.id,
      data: {
        from: row.status,
        to: next,
        orderId: row.orderId,
        invoiceId: row.invoiceId,
        ...(extra.evidenceFiles ? { files: extra.evidenceFiles.map((f) => f.name) } : {}),
        ...(extra.acceptedBy ? { accepted: true } : {}),
      },
    },
    now,
  );
  if (closing) {
    const invoiceEvent = next === 'won' ? 'win_dispute' : 'lose_dispute';
    const [invoice] = await tx.select().from(invoices).where(eq(invoices.id, row.invoiceId)).for('update');
    if (invoice?.status === 'disputed') await applyInvoiceEvent(tx, invoice.id, invoiceEvent, actor, now, invoice);
  }
  return updated!;
}
