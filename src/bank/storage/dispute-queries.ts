// What the bank app's dispute page shows a cardholder: their captured payments (with the dispute of
// each, if any) and their disputes. Every query is scoped by the cardholder id.
import { and, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { authorizations, disputes } from './tables.ts';

/** The cardholder's captured payments, newest first, with the amount still disputable and any dispute. */
export async function disputablePayments(executor: Executor, cardholderId: string, limit = 30) {
  return executor
    .select({
      id: authorizations.id,
      merchantName: authorizations.merchantName,
      description: authorizations.description,
      cardLast4: authorizations.cardLast4,
      currency: authorizations.currency,
      capturedMinor: authorizations.capturedMinor,
      refundedMinor: authorizations.refundedMinor,
      createdAt: authorizations.createdAt,
      disputeId: disputes.id,
    })
    .from(authorizations)
    .leftJoin(disputes, eq(disputes.authorizationId, authorizations.id))
    .where(
      and(
        eq(authorizations.cardholderId, cardholderId),
        inArray(authorizations.status, ['captured', 'refunded']),
        gt(sql`${authorizations.capturedMinor} - ${authorizations.refundedMinor}`, 0n),
      ),
    )
    .orderBy(desc(authorizations.createdAt))
    .limit(limit);
}

/** The cardholder's disputes, newest first, with the payment each is about. */
export async function cardholderDisputes(executor: Executor, cardholderId: string, limit = 30) {
  return executor
    .select({
      id: disputes.id,
      status: disputes.status,
      reason: disputes.reason,
      amountMinor: disputes.amountMinor,
      currency: disputes.currency,
      evidenceDueBy: disputes.evidenceDueBy,
      decidedBy: disputes.decidedBy,
      createdAt: disputes.createdAt,
      merchantName: authorizations.merchantName,
    })
    .from(disputes)
    .innerJoin(authorizations, eq(authorizations.id, disputes.authorizationId))
    .where(eq(disputes.cardholderId, cardholderId))
    .orderBy(desc(disputes.createdAt))
    .limit(limit);
}
