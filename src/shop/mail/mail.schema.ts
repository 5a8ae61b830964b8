// The mail outbox: one row per e-mail the shop owes a customer, written in the transaction of the
// state change that causes it, and sent afterwards by a durable job (shop.mail.send). The unique
// (kind, subject_id) makes a second cause of the same mail (a redelivered webhook, a replayed feed
// event) write nothing: exactly one receipt per paid invoice, one notice per refund.
//
// States (status): queued -> sent (the SMTP server accepted it) | failed (every attempt refused);
// a failed attempt that will be retried stays queued with attempts and last_error filled in.
import { index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { MailStatus } from '../domain/mail.machine.ts';
import { orders } from '../storage/tables.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export type MailKind = 'receipt' | 'attempt_failed' | 'invoice_expired' | 'refund' | 'payment_reversed';

export const shopMails = pgTable(
  'shop_mails',
  {
    id: text('id').primaryKey(),
    kind: text('kind').$type<MailKind>().notNull(),
    // What the mail is about: the invoice (receipt, expiry, reversal), the attempt, or the refund.
    subjectId: text('subject_id').notNull(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    invoiceId: text('invoice_id'),
    recipient: text('recipient').notNull(),
    status: text('status').$type<MailStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    // Deterministic per mail (<id@host>): a resend after a crash between the SMTP answer and the commit
    // of `sent` carries the same Message-ID, so the copy is recognisable as the same mail.
    messageId: text('message_id').notNull(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    sentAt: ts('sent_at'),
  },
  (t) => [
    uniqueIndex('shop_mails_kind_subject_idx').on(t.kind, t.subjectId),
    index('shop_mails_order_idx').on(t.orderId, t.createdAt),
  ],
);
