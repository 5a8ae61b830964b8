// The bank's own tables: cardholders and their logins, accounts, cards, authorisations (holds),
// approval requests, movements, refunds, the gateway's seen request ids and the callback outbox.
// Money is bigint minor units plus a currency column; never floats.
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true });
const minor = (name: string) => bigint(name, { mode: 'bigint' });

export const cardholders = pgTable('cardholders', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  passwordHash: text('password_hash').notNull(),
  createdAt: ts('created_at').notNull(),
});

export const bankSessions = pgTable(
  'bank_sessions',
  {
    // sha256 of the cookie's token: a leaked table does not log anyone in.
    tokenHash: text('token_hash').primaryKey(),
    cardholderId: text('cardholder_id')
      .notNull()
      .references(() => cardholders.id),
    csrfToken: text('csrf_token').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('bank_sessions_cardholder_idx').on(t.cardholderId)],
);

export const loginFailures = pgTable(
  'login_failures',
  {
    id: text('id').primaryKey(),
    // 'email:<address>' or 'ip:<address>': both are limited.
    key: text('key').notNull(),
    at: ts('at').notNull(),
  },
  (t) => [index('login_failures_key_idx').on(t.key, t.at)],
);

export const accounts = pgTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    cardholderId: text('cardholder_id')
      .notNull()
      .references(() => cardholders.id),
    name: text('name').notNull(),
    currency: text('currency').notNull(),
    // Booked balance; holds are reserved out of it. Available = balance - held.
    balanceMinor: minor('balance_minor').notNull(),
    heldMinor: minor('held_minor').notNull().default(sql`0`),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    // The last line of defence for "the balance can never go below zero": the conditional updates
    // should never get here, but if one did the transaction fails instead of overdrawing.
    check('accounts_available_non_negative', sql`${t.balanceMinor} - ${t.heldMinor} >= 0`),
    check('accounts_held_non_negative', sql`${t.heldMinor} >= 0`),
    index('accounts_cardholder_idx').on(t.cardholderId),
  ],
);

export const cards = pgTable(
  'cards',
  {
    id: text('id').primaryKey(),
    number: text('number').notNull().unique(),
    cardholderId: text('cardholder_id')
      .notNull()
      .references(() => cardholders.id),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    expMonth: integer('exp_month').notNull(),
    expYear: integer('exp_year').notNull(),
    // Salted hash of the CVC; compared in constant time.
    cvcHash: text('cvc_hash').notNull(),
    // What the issuer does with an authorisation on this card: approve (standard), decline,
    // ask the cardholder (approval, with an optional per-card timeout), or decide after a delay.
    policy: text('policy', { enum: ['standard', 'decline', 'approval', 'delayed'] }).notNull(),
    approvalTimeoutSeconds: integer('approval_timeout_seconds'),
    label: text('label').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('cards_cardholder_idx').on(t.cardholderId)],
);

export const authorizations = pgTable(
  'authorizations',
  {
    id: text('id').primaryKey(),
    gatewayRef: text('gateway_ref').notNull().unique(),
    // Null when the card is unknown (the decline is still recorded, for idempotency).
    cardId: text('card_id').references(() => cards.id),
    accountId: text('account_id').references(() => accounts.id),
    cardholderId: text('cardholder_id').references(() => cardholders.id),
    cardLast4: text('card_last4').notNull(),
    amountMinor: minor('amount_minor').notNull(),
    currency: text('currency').notNull(),
    merchantName: text('merchant_name').notNull(),
    description: text('description').notNull(),
    reference: text('reference').notNull(),
    // pending | approved | declined | captured | voided | refunded; see authorization.machine.ts
    status: text('status').notNull(),
    declineReason: text('decline_reason'),
    // What this authorisation currently reserves on the account (released on decline/void/capture).
    heldMinor: minor('held_minor').notNull().default(sql`0`),
    capturedMinor: minor('captured_minor').notNull().default(sql`0`),
    refundedMinor: minor('refunded_minor').notNull().default(sql`0`),
    approvalExpiresAt: ts('approval_expires_at'),
    createdAt: ts('created_at').notNull(),
    decidedAt: ts('decided_at'),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    check('authorizations_refunds_within_capture', sql`${t.refundedMinor} <= ${t.capturedMinor}`),
    index('authorizations_account_idx').on(t.accountId, t.createdAt),
  ],
);

export const approvalRequests = pgTable(
  'approval_requests',
  {
    id: text('id').primaryKey(),
    authorizationId: text('authorization_id')
      .notNull()
      .unique()
      .references(() => authorizations.id),
    cardholderId: text('cardholder_id')
      .notNull()
      .references(() => cardholders.id),
    // pending | approved | declined | expired | cancelled; see approval.machine.ts
    status: text('status').notNull(),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull(),
    answeredAt: ts('answered_at'),
  },
  (t) => [index('approval_requests_cardholder_idx').on(t.cardholderId, t.status)],
);

export const movements = pgTable(
  'movements',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    authorizationId: text('authorization_id').references(() => authorizations.id),
    // dispute: the provisional credit of a chargeback; dispute_reversal: taken back when the merchant won.
    kind: text('kind', { enum: ['opening', 'capture', 'refund', 'dispute', 'dispute_reversal'] }).notNull(),
    // Signed: debits negative, credits positive, so that the sum of an account's movements is its balance.
    amountMinor: minor('amount_minor').notNull(),
    currency: text('currency').notNull(),
    description: text('description').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('movements_account_idx').on(t.accountId, t.createdAt)],
);

export const bankRefunds = pgTable(
  'bank_refunds',
  {
    id: text('id').primaryKey(),
    authorizationId: text('authorization_id')
      .notNull()
      .references(() => authorizations.id),
    refundRef: text('refund_ref').notNull(),
    amountMinor: minor('amount_minor').notNull(),
    currency: text('currency').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('bank_refunds_ref_idx').on(t.authorizationId, t.refundRef)],
);

// Every signed gateway request's id (column named for the scheme it first served), committed before
// the request's effect: a replay conflicts here and is refused, whatever the first one's outcome.
export const gatewayRequests = pgTable('gateway_requests', {
  webhookId: text('webhook_id').primaryKey(),
  receivedAt: ts('received_at').notNull(),
});

// The callback outbox: one row per decision the gateway must hear about, written with the decision;
// a job delivers it (signed, retried with backoff) and marks it delivered.
export const gatewayCallbacks = pgTable('gateway_callbacks', {
  id: text('id').primaryKey(),
  authorizationId: text('authorization_id')
    .notNull()
    .references(() => authorizations.id),
  body: text('body').notNull(),
  status: text('status', { enum: ['pending', 'delivered'] }).notNull(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  createdAt: ts('created_at').notNull(),
  deliveredAt: ts('delivered_at'),
});

// A cardholder's dispute of a captured payment: one per authorisation, ever. The chargeback's
// provisional credit is a movement (kind dispute); the gateway hears of it through the callback outbox.
export const disputes = pgTable(
  'disputes',
  {
    id: text('id').primaryKey(),
    authorizationId: text('authorization_id')
      .notNull()
      .unique()
      .references(() => authorizations.id),
    cardholderId: text('cardholder_id')
      .notNull()
      .references(() => cardholders.id),
    amountMinor: minor('amount_minor').notNull(),
    currency: text('currency').notNull(),
    reason: text('reason').notNull(),
    // open | under_review | won | lost; see dispute.machine.ts (moved only by commands/dispute-status.ts)
    status: text('status').notNull(),
    evidenceDueBy: ts('evidence_due_by').notNull(),
    // The merchant's evidence as the gateway forwarded it: text, and files as [{name, content_type, content_base64}].
    evidenceText: text('evidence_text'),
    evidenceFiles: jsonb('evidence_files').$type<{ name: string; content_type: string; content_base64: string }[]>(),
    // How it ended: evidence | accepted | deadline | withdrawn.
    decidedBy: text('decided_by'),
    createdAt: ts('created_at').notNull(),
    decidedAt: ts('decided_at'),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    check('disputes_amount_positive', sql`${t.amountMinor} > 0`),
    index('disputes_cardholder_idx').on(t.cardholderId, t.createdAt),
  ],
);
