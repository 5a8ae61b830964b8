// Gateway payments' tables: the dedupe of gateway events (its verdict kept, so a redelivery gets the same
// answer), every verified webhook delivery with its verdict (for staff), the bounded record of
// deliveries refused before verification, and small key/value state (the event feed's cursor).
import { bigint, bigserial, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

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

/** Every verified webhook delivery, whatever became of it (accepted, duplicate, refused, ignored, malformed, error). */
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

// Deliveries that fail verification come from anyone on the internet, so they get no row each: a
// counter per (hour, reason), at most a few samples per (hour, reason), and one counter per address
// slot for the rate limit. All three stay bounded whatever the volume (webhook-refusals.ts).

/** Refused deliveries counted per hour bucket and refusal code (a closed set). */
export const webhookRefusals = pgTable('webhook_refusals', {
  bucket: ts('bucket').notNull(),
  reason: text('reason').notNull(),
  count: bigint('count', { mode: 'number' }).notNull(),
  lastAt: ts('last_at').notNull(),
}, (t) => [primaryKey({ columns: [t.bucket, t.reason] })]);

/** The first few refused deliveries of each (hour, reason): who sent what, truncated. */
export const webhookRefusalSamples = pgTable('webhook_refusal_samples', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  bucket: ts('bucket').notNull(),
  reason: text('reason').notNull(),
  receivedAt: ts('received_at').notNull(),
  address: text('address').notNull(),
  httpStatus: integer('http_status').notNull(),
  headers: jsonb('headers').$type<Record<string, string>>().notNull(),
  body: text('body').notNull(),
}, (t) => [index('webhook_refusal_samples_bucket_idx').on(t.bucket, t.reason)]);

/** Refusals per address slot (a hash of the address into a fixed number of slots) in the current minute. */
export const webhookRefusalSources = pgTable('webhook_refusal_sources', {
  slot: integer('slot').primaryKey(),
  windowStart: ts('window_start').notNull(),
  count: integer('count').notNull(),
  lastAddress: text('last_address').notNull(),
});

/** Small durable settings of background work (the gateway event feed's cursor). */
export const paymentState = pgTable('payment_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: ts('updated_at').notNull(),
});
