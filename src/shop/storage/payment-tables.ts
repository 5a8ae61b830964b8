// The shop's payment tables: one row per "Pay now" that reached the gateway, the dedupe of gateway
// events, the webhook receipts and the bounded record of refused deliveries, the payment state and the
// refunds. Amounts are bigint minor units with their currency beside them. Re-exported by tables.ts.
import { bigint, bigserial, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import type { RefundStatus } from '../domain/refund.machine.ts';
import { ts } from './columns.ts';
import { invoices, orders } from './tables.ts';

// One row per "Pay now" that reached the gateway; an invoice may have several while it is valid.
export const paymentAttempts = pgTable(
  'payment_attempts',
  {
    id: text('id').primaryKey(),
    invoiceId: text('invoice_id')
      .notNull()
      .references(() => invoices.id),
    status: text('status').notNull(),
    gatewaySessionId: text('gateway_session_id'),
    // The gateway's hosted page for this session: "Pay now" sends the payer back to it while payable.
    redirectUrl: text('redirect_url'),
    // The highest session sequence applied: older news about the session is ignored.
    // bigint: a Stripe event's sequence is its created time (unix seconds) times 16 plus the state's rank.
    lastSequence: bigint('last_sequence', { mode: 'number' }).notNull().default(-1),
    // Why it was refused, declined or failed (an error code or the gateway's reason).
    reason: text('reason'),
    // The card that paid, as the gateway's news named it (brand and last four only), for the receipt.
    cardBrand: text('card_brand'),
    cardLast4: text('card_last4'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('payment_attempts_invoice_idx').on(t.invoiceId),
    // One attempt per gateway session: a webhook and "Pay now" racing cannot make two.
    uniqueIndex('payment_attempts_session_idx').on(t.gatewaySessionId),
    index('payment_attempts_status_idx').on(t.status, t.updatedAt),
    index('payment_attempts_created_idx').on(t.createdAt, t.id),
  ],
);

// Payment news: the dedupe of gateway events (its verdict kept, so a redelivery gets the same answer),
// every verified webhook delivery with its verdict (for staff), the bounded record of deliveries
// refused before verification, and small key/value state (the event feed's cursor).

/** One row per gateway event id ever applied; inserted in the same transaction as the event's effect. */
export const gatewayEvents = pgTable(
  'gateway_events',
  {
    eventId: text('event_id').primaryKey(),
    sessionId: text('session_id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    status: text('status').notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    source: text('source').notNull(),
    // accepted | refused | ignored: what the shop decided (a duplicate gets the same answer: refused again, or acknowledged).
    verdict: text('verdict').notNull(),
    code: text('code'),
    reason: text('reason'),
    appliedAt: ts('applied_at').notNull(),
  },
  (t) => [index('gateway_events_session_idx').on(t.sessionId)],
);

/** Every verified webhook delivery, whatever became of it (accepted, duplicate, refused, ignored, malformed, error). */
export const webhookReceipts = pgTable(
  'webhook_receipts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    receivedAt: ts('received_at').notNull(),
    eventId: text('event_id'),
    eventType: text('event_type'),
    sessionId: text('session_id'),
    invoiceId: text('invoice_id'),
    verdict: text('verdict').notNull(),
    reason: text('reason'),
  },
  (t) => [
    index('webhook_receipts_invoice_idx').on(t.invoiceId),
    index('webhook_receipts_received_idx').on(t.receivedAt, t.id),
  ],
);

// Deliveries that fail verification come from anyone on the internet, so they get no row each: a
// counter per (hour, reason), at most a few samples per (hour, reason), and one counter per address
// slot for the rate limit. All three stay bounded whatever the volume (webhook-refusals.ts).

/** Refused deliveries counted per hour bucket and refusal code (a closed set). */
export const webhookRefusals = pgTable(
  'webhook_refusals',
  {
    bucket: ts('bucket').notNull(),
    reason: text('reason').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
    lastAt: ts('last_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.bucket, t.reason] })],
);

/** The first few refused deliveries of each (hour, reason): who sent what, truncated. */
export const webhookRefusalSamples = pgTable(
  'webhook_refusal_samples',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    bucket: ts('bucket').notNull(),
    reason: text('reason').notNull(),
    receivedAt: ts('received_at').notNull(),
    address: text('address').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull(),
    body: text('body').notNull(),
  },
  (t) => [index('webhook_refusal_samples_bucket_idx').on(t.bucket, t.reason)],
);

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

// Refunds and the customer's notifications. A refund reserves its amount from the moment it is
// requested (awaiting approval, pending, submitted, succeeded all count), so that the total can never
// exceed what was captured, whatever runs concurrently.
export const refunds = pgTable(
  'refunds',
  {
    id: text('id').primaryKey(),
    invoiceId: text('invoice_id')
      .notNull()
      .references(() => invoices.id),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    // The gateway session that was captured (the paid attempt's), which the gateway refunds.
    sessionId: text('session_id').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    // Staff's internal note: never shown to the customer.
    reason: text('reason').notNull(),
    // What the customer is told (a code of domain/refund.rule.ts CUSTOMER_REFUND_REASONS).
    customerReason: text('customer_reason').notNull().default('other'),
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
  },
  (t) => [
    index('refunds_invoice_idx').on(t.invoiceId),
    index('refunds_status_idx').on(t.status, t.createdAt),
    index('refunds_created_idx').on(t.createdAt, t.id),
  ],
);
