// Disputes as stored: the queries the pages and the staff's answers need, and the documents a
// response carries automatically (the order's receipt and its audit trail). No status changes here.
import { asc, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import type { DisputeStatus } from '../domain/dispute.machine.ts';
import type { EvidenceFile } from '../domain/gateway.port.ts';
import { receiptFacts } from '../mail/mail-content.ts';
import { receiptPdf, receiptPdfLines } from '../mail/receipt-pdf.ts';
import { auditTrailForOrder } from './audit.ts';
import { disputes, invoices, orders, paymentAttempts, refunds, users } from './tables.ts';

export type DisputeRow = typeof disputes.$inferSelect;

/** One dispute by its gateway id. */
export async function getDispute(db: Executor, id: string): Promise<DisputeRow | undefined> {
  const [row] = await db.select().from(disputes).where(eq(disputes.id, id));
  return row;
}

/** The disputes of one order, oldest first. */
export async function disputesForOrder(db: Executor, orderId: string): Promise<DisputeRow[]> {
  return db.select().from(disputes).where(eq(disputes.orderId, orderId)).orderBy(asc(disputes.openedAt));
}

/** Disputes in these statuses, soonest deadline first, with the order's number and the customer's e-mail. */
export async function disputesByDeadline(db: Executor, statuses: readonly DisputeStatus[], limit = 200) {
  return db
    .select({ dispute: disputes, orderNumber: orders.number, email: users.email })
    .from(disputes)
    .innerJoin(orders, eq(orders.id, disputes.orderId))
    .leftJoin(users, eq(users.id, orders.userId))
    .where(inArray(disputes.status, [...statuses]))
    .orderBy(asc(disputes.evidenceDueBy), asc(disputes.id))
    .limit(limit);
}

/** The order's audit trail as text, one entry a line (what the shop attaches to its evidence). */
export async function auditTrailText(db: Executor, orderId: string): Promise<string> {
  const invoiceIds = (await db.select({ id: invoices.id }).from(invoices).where(eq(invoices.orderId, orderId))).map(
    (r) => r.id,
  );
  const attemptIds = invoiceIds.length
    ? (
        await db
          .select({ id: paymentAttempts.id })
          .from(paymentAttempts)
          .where(inArray(paymentAttempts.invoiceId, invoiceIds))
      ).map((r) => r.id)
    : [];
  const refundIds = (await db.select({ id: refunds.id }).from(refunds).where(eq(refunds.orderId, orderId))).map(
    (r) => r.id,
  );
  const disputeIds = (await disputesForOrder(db, orderId)).map((d) => d.id);
  const entries = await auditTrailForOrder(db, orderId, [...invoiceIds, ...attemptIds, ...refundIds, ...disputeIds]);
  const lines = entries.map(
    (e) => `#${e.seq} ${e.at.toISOString()} ${e.actor} ${e.action} ${e.subject} ${JSON.stringify(e.data)} ${e.hash}`,
  );
  return [`Audit trail of order ${orderId} (hash-chained; each line ends with its entry's hash)`, ...lines].join('\n');
}

/** The documents every response carries: the receipt (PDF, with its text) and the audit trail (text). */
export async function automaticEvidence(db: Executor, dispute: DisputeRow): Promise<EvidenceFile[]> {
  const files: EvidenceFile[] = [];
  const facts = await receiptFacts(db, dispute.orderId, dispute.invoiceId);
  if (facts) {
    files.push({
      name: `receipt-${dispute.orderId}.pdf`,
      contentType: 'application/pdf',
      content: await receiptPdf(facts),
      text: receiptPdfLines(facts).join('\n'),
    });
  }
  const trail = await auditTrailText(db, dispute.orderId);
  files.push({ name: `audit-trail-${dispute.orderId}.txt`, contentType: 'text/plain', content: Buffer.from(trail) });
  return files;
}
