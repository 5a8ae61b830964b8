// The gateway's own tables. Amounts are bigint minor units with their currency beside them; card
// data is limited to last 4, brand and fingerprint (the number and CVC never reach this schema).
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { DeliveryStatus } from '../domain/delivery.machine.ts';
import type { IdempotencyKeyState } from '../domain/idempotency-key.machine.ts';
import type { RefundStatus } from '../domain/refund.machine.ts';
import type { Acknowledgement, SessionStatus } from '../domain/session.machine.ts';
import type { ApiDialect, CaptureMethod, StripeRefundExtras, StripeSessionExtras } from '../domain/stripe.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const merchants = pgTable('merchants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  webhookUrl: text('webhook_url'),
  // A 410 from the endpoint turns this off; a merchant turns it back on.
  webhookEnabled: boolean('webhook_enabled').notNull().default(true),
  ackWindowSeconds: integer('ack_window_seconds').notNull().default(900),
  // Signed up in the dashboard (not configured by the operator): its webhook URL is the merchant's
  // own, so deliveries to it go through the outbound guard (GATEWAY_WEBHOOK_NETWORKS).
  selfServe: boolean('self_serve').notNull().default(false),
  createdAt: ts('created_at').notNull(),
});

export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  merchantId: text('merchant_id')
    .notNull()
    .references(() => merchants.id),
  // Only the sha256 of the key is kept; the prefix lets a merchant tell keys apart.
  hash: text('hash').notNull().unique(),
  prefix: text('prefix').notNull(),
  // The dialect the key speaks on /v1: native (our API) or stripe (Stripe's API, ).
  api: text('api').$type<ApiDialect>().notNull().default('native'),
  createdAt: ts('created_at').notNull(),
  // Revoked keys stop at once; a rolled key keeps working until its expiry (the overlap), then stops.
  revokedAt: ts('revoked_at'),
  expiresAt: ts('expires_at'),
  // The last 4 characters, so that a merchant can tell keys apart (null for keys made before).
  last4: text('last4'),
});

export const signingSecrets = pgTable(
  'signing_secrets',
  {
    id: text('id').primaryKey(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    // Kept in clear: the gateway needs it to sign. Up to two are active during a rotation.
    secret: text('secret').notNull(),
    createdAt: ts('created_at').notNull(),
    retiredAt: ts('retired_at'),
    // Set when a newer secret replaced it: it signs until then (the overlap), and never after.
    expiresAt: ts('expires_at'),
  },
  (t) => [uniqueIndex('signing_secrets_merchant_secret').on(t.merchantId, t.secret)],
);

export const paymentSessions = pgTable(
  'payment_sessions',
  {
    id: text('id').primaryKey(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    status: text('status').$type<SessionStatus>().notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    merchantReference: text('merchant_reference').notNull(),
    description: text('description').notNull().default(''),
    returnUrl: text('return_url'),
    cancelUrl: text('cancel_url'),
    expiresAt: ts('expires_at').notNull(),
    // Per-session sequence: every state change increments it; events carry it.
    sequence: integer('sequence').notNull().default(0),
    cardLast4: text('card_last4'),
    cardBrand: text('card_brand'),
    cardFingerprint: text('card_fingerprint'),
    // When the payer submitted the card on the hosted page (the journey view's browser → gateway step).
    cardSubmittedAt: ts('card_submitted_at'),
    bankAuthorizationId: text('bank_authorization_id'),
    // Until when the bank waits for the cardholder's approval in the bank app (null: the bank is deciding by itself).
    approvalExpiresAt: ts('approval_expires_at'),
    declineReason: text('decline_reason'),
    lastError: text('last_error'),
    authorizedAt: ts('authorized_at'),
    // The acknowledgement of payment.authorized: null while waiting, then acknowledged | refused | timed_out.
    acknowledgement: text('acknowledgement').$type<Acknowledgement>(),
    acknowledgedAt: ts('acknowledged_at'),
    ackDeadline: ts('ack_deadline'),
    voidReason: text('void_reason'),
    capturedMinor: bigint('captured_minor', { mode: 'bigint' }).notNull().default(sql`0`),
    refundedMinor: bigint('refunded_minor', { mode: 'bigint' }).notNull().default(sql`0`),
    // The API the session was opened through, and when its authorisation is captured.
    api: text('api').$type<ApiDialect>().notNull().default('native'),
    captureMethod: text('capture_method').$type<CaptureMethod>().notNull().default('on_acknowledgement'),
    // Stripe sessions only: the Checkout Session / PaymentIntent fields as the merchant gave them.
    stripe: jsonb('stripe').$type<StripeSessionExtras>(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('payment_sessions_merchant_idx').on(t.merchantId, t.createdAt),
    index('payment_sessions_waiting_idx')
      .on(t.status)
      .where(sql`status in ('created', 'processing', 'requires_approval', 'authorized')`),
  ],
);

export const refunds = pgTable(
  'refunds',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => paymentSessions.id),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    reason: text('reason').notNull().default(''),
    // pending (recorded, bank not yet told) -> succeeded
    status: text('status').$type<RefundStatus>().notNull(),
    // Refunds made through the Stripe API: their metadata and Stripe reason.
    stripe: jsonb('stripe').$type<StripeRefundExtras>(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('refunds_session_idx').on(t.sessionId)],
);

export const events = pgTable(
  'events',
  {
    // The feed's cursor: drawn under a per-merchant advisory lock, so ids become visible in order.
    cursor: bigserial('cursor', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull().unique(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    type: text('type').notNull(),
    sessionId: text('session_id').notNull(),
    sequence: integer('sequence').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('events_merchant_cursor_idx').on(t.merchantId, t.cursor)],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    merchantId: text('merchant_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    state: text('state').$type<IdempotencyKeyState>().notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.merchantId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    eventId: text('event_id').notNull(),
    // Null: the merchant's native endpoint, event in `events`. A `we_…`: that Stripe-format endpoint
    // (storage/stripe-tables.ts), event in `stripe_events`, signed with the endpoint's secret.
    webhookEndpointId: text('webhook_endpoint_id'),
    // pending -> delivered | refused | failed (schedule exhausted) | disabled (endpoint gone or off)
    status: text('status').$type<DeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('webhook_deliveries_event_idx').on(t.eventId)],
);

export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id),
    attempt: integer('attempt').notNull(),
    url: text('url').notNull(),
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms').notNull(),
    responseExcerpt: text('response_excerpt'),
    error: text('error'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId)],
);

/**
 * Bank callbacks received, by the bank's callback id (column named for the scheme it first served):
 * the dedupe row written in the effect's transaction.
 */
export const bankCallbacks = pgTable('bank_callbacks', {
  webhookId: text('webhook_id').primaryKey(),
  type: text('type').notNull(),
  authorizationId: text('authorization_id').notNull(),
  receivedAt: ts('received_at').notNull(),
});

/** Ids of the signed requests received (bank callbacks), each committed before the request's effect: a replay is refused. */
export const signedRequests = pgTable(
  'signed_requests',
  {
    requestId: text('request_id').primaryKey(),
    receivedAt: ts('received_at').notNull(),
  },
  (t) => [index('signed_requests_received_idx').on(t.receivedAt)],
);

export type MerchantRow = typeof merchants.$inferSelect;
export type SessionRow = typeof paymentSessions.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;

/** Generated-once settings of this gateway (e.g. the card fingerprint key). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * Fault injection per merchant, off unless a row exists with enabled = true. Decisions are drawn
 * from HMAC(seed, counter): the same seed and the same sequence of operations give the same faults.
 */
export const faultSettings = pgTable('fault_settings', {
  merchantId: text('merchant_id')
    .primaryKey()
    .references(() => merchants.id),
  enabled: boolean('enabled').notNull().default(false),
  seed: text('seed').notNull(),
  // Separate streams, so background webhook retries do not shift the API's sequence of draws.
  apiCounter: integer('api_counter').notNull().default(0),
  webhookCounter: integer('webhook_counter').notNull().default(0),
  config: jsonb('config').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

/** Merchant dashboard logins: the cookie carries a random token, the table its sha256. */
export const dashboardSessions = pgTable('dashboard_sessions', {
  tokenHash: text('token_hash').primaryKey(),
  merchantId: text('merchant_id')
    .notNull()
    .references(() => merchants.id),
  // The dashboard user (null: a login with a secret API key, which acts as an owner).
  userId: text('user_id'),
  csrf: text('csrf').notNull(),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull(),
});
