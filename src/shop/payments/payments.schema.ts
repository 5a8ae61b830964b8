// Issue 6's tables: the dedupe of gateway events (its verdict kept, so a redelivery gets the same
// answer), every webhook delivery received with its verdict (for staff), and small key/value state
// (the event feed's cursor).
import { bigserial, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** One row per gateway event id ever applied; inserted in the same transaction as the event's effect. */
export const gatewayEvents = pgTable('gateway_events', {
  eventId: text('event_id').primaryKey(),
  sessionId: text('session_id').notNull(),
  invoiceId: text('invoice_id').notNull(),
  status: text('status').notNull(),
  sequence: integer('sequence').notNull(),
  source: text('source').notNull(),
  // accepted | refused | ignored: what the shop decided, and the HTTP answer it gave (replayed to duplicates).
  verdict: text('verdict').notNull(),
  httpStatus: integer('http_status').notNull(),
  code: text('code'),
  reason: text('reason'),
  appliedAt: ts('applied_at').notNull(),
}, (t) => [index('gateway_events_session_idx').on(t.sessionId)]);

/** Every webhook delivery received, whatever became of it (accepted, duplicate, refused, bad signature...). */
export const webhookReceipts = pgTable('webhook_receipts', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  receivedAt: ts('received_at').notNull(),
  eventId: text('event_id'),
  eventType: text('event_type'),
  sessionId: text('session_id'),
  invoiceId: text('invoice_id'),
  verdict: text('verdict').notNull(),
  httpStatus: integer('http_status').notNull(),
  reason: text('reason'),
}, (t) => [index('webhook_receipts_invoice_idx').on(t.invoiceId), index('webhook_receipts_received_idx').on(t.receivedAt)]);

/** Small durable settings of background work (the gateway event feed's cursor). */
export const paymentState = pgTable('payment_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: ts('updated_at').notNull(),
});
