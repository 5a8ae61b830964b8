// Disputes (chargebacks) the bank reported for captured payments, and the merchant's answer to each.
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { DisputeReason, DisputeStatus, Evidence } from '../domain/dispute.machine.ts';
import { merchants, paymentSessions } from './tables.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** Stripe's text evidence fields as a Stripe-dialect merchant gave them (`evidence[product_description]`…). */
export type StripeEvidenceFields = Record<string, string>;

export const disputes = pgTable(
  'disputes',
  {
    id: text('id').primaryKey(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    sessionId: text('session_id')
      .notNull()
      .references(() => paymentSessions.id),
    // The bank's dispute reference: one dispute per bank dispute, whatever the retries of its callback.
    bankDisputeRef: text('bank_dispute_ref').notNull().unique(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    reason: text('reason').$type<DisputeReason>().notNull(),
    // needs_response -> under_review -> won | lost; moved only by moveDispute (storage/disputes.ts).
    status: text('status').$type<DisputeStatus>().notNull(),
    evidenceDueBy: ts('evidence_due_by').notNull(),
    // What the merchant submitted (kept until the bank has it, and for the record).
    evidence: jsonb('evidence').$type<Evidence>(),
    stripeEvidence: jsonb('stripe_evidence').$type<StripeEvidenceFields>(),
    submissionCount: integer('submission_count').notNull().default(0),
    // When the merchant's answer (evidence or acceptance) reached the bank; null while on its way.
    forwardedAt: ts('forwarded_at'),
    closedAt: ts('closed_at'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('disputes_merchant_idx').on(t.merchantId, t.createdAt), index('disputes_session_idx').on(t.sessionId)],
);

export type DisputeRow = typeof disputes.$inferSelect;
