// Refunds (seed 000) and the customer's notifications. A refund reserves its amount from the moment
// it is requested (awaiting approval, pending, submitted, succeeded all count), so that the total
// can never exceed what was captured, whatever runs concurrently.
import { bigint, bigserial, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { invoices, orders, users } from '../storage/tables.ts';
import type { RefundStatus } from './refund.machine.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const refunds = pgTable('refunds', {
  id: text('id').primaryKey(),
  invoiceId: text('invoice_id').notNull().references(() => invoices.id),
  orderId: text('order_id').notNull().references(() => orders.id),
  // The gateway session that was captured (the paid attempt's), which the gateway refunds.
  sessionId: text('session_id').notNull(),
  amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
  currency: text('currency').notNull(),
  reason: text('reason').notNull(),
  status: text('status').$type<RefundStatus>().notNull(),
  // A staff user id, or 'gateway' for a refund the shop learnt of from the gateway (made there).
  requestedBy: text('requested_by').notNull(),
  approvedBy: text('approved_by'),
  // The gateway's refund id, once known (from its answer or from the webhook).
  gatewayRefundId: text('gateway_refund_id').unique(),
  // Why it failed or was rejected (the gateway's code or the approver's decision).
  failure: text('failure'),
  // The refund form's one-time key: a double submission (double click, resent form) makes one refund.
  requestKey: text('request_key').unique(),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
}, (t) => [index('refunds_invoice_idx').on(t.invoiceId), index('refunds_status_idx').on(t.status, t.createdAt)]);

/** What the shop tells a customer about their orders (shown on "my orders" and the order page). */
export const customerNotifications = pgTable('customer_notifications', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  userId: text('user_id').notNull().references(() => users.id),
  orderId: text('order_id').references(() => orders.id),
  kind: text('kind').notNull(),
  message: text('message').notNull(),
  createdAt: ts('created_at').notNull(),
}, (t) => [index('customer_notifications_user_idx').on(t.userId, t.createdAt)]);
