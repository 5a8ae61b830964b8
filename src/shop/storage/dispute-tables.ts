// The shop's record of disputes (chargebacks) of its captured payments: one row per gateway dispute,
// beside the order it disputes. Only commands/dispute-transition.ts writes its status.
import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import type { DisputeStatus } from '../domain/dispute.machine.ts';
import { minor, ts } from './columns.ts';
import { invoices, orders } from './tables.ts';

export const disputes = pgTable(
  'disputes',
  {
    // The gateway's dispute id (`dp_…` on our gateway, `du_…` on Stripe): one row per dispute.
    id: text('id').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    invoiceId: text('invoice_id')
      .notNull()
      .references(() => invoices.id),
    sessionId: text('session_id').notNull(),
    amountMinor: minor('amount_minor').notNull(),
    currency: text('currency').notNull(),
    reason: text('reason').notNull(),
    status: text('status').$type<DisputeStatus>().notNull(),
    evidenceDueBy: ts('evidence_due_by').notNull(),
    // What staff sent: when, by whom, the text and the files' names (their contents went to the gateway).
    evidenceSubmittedAt: ts('evidence_submitted_at'),
    evidenceSubmittedBy: text('evidence_submitted_by'),
    evidenceText: text('evidence_text'),
    evidenceFiles: jsonb('evidence_files').$type<{ name: string; contentType: string; bytes: number }[]>(),
    acceptedAt: ts('accepted_at'),
    acceptedBy: text('accepted_by'),
    openedAt: ts('opened_at').notNull(),
    closedAt: ts('closed_at'),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('disputes_order_idx').on(t.orderId), index('disputes_status_due_idx').on(t.status, t.evidenceDueBy)],
);
