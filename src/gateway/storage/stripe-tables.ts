// The tables of the gateway's Stripe-format events: webhook endpoints (`we_…`) and the events
// (`evt_…`) projected from our own event log for sessions created through the Stripe API.
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { WebhookEndpointStatus } from '../domain/webhook-endpoint.machine.ts';
import { merchants } from './tables.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    url: text('url').notNull(),
    // Event types (or '*') this endpoint receives.
    enabledEvents: jsonb('enabled_events').$type<string[]>().notNull(),
    // Kept in clear: the gateway signs with it. Shown once, at creation; never logged.
    secret: text('secret').notNull(),
    // enabled | disabled | deleted, moved only by moveWebhookEndpoint (storage/webhook-endpoints.ts).
    status: text('status').$type<WebhookEndpointStatus>().notNull(),
    description: text('description'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('webhook_endpoints_merchant_idx').on(t.merchantId, t.createdAt)],
);

export const stripeEvents = pgTable(
  'stripe_events',
  {
    // Ordering of a merchant's events (ids sort only to the millisecond): drawn under the same
    // per-merchant advisory lock as the native feed's, so cursors become visible in order.
    cursor: bigserial('cursor', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull().unique(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    type: text('type').notNull(),
    // Our payment session the event is about (the dashboard's payment view).
    sessionId: text('session_id').notNull(),
    // The whole Stripe event object, as delivered and as listed.
    payload: jsonb('payload').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    index('stripe_events_merchant_cursor_idx').on(t.merchantId, t.cursor),
    index('stripe_events_session_idx').on(t.sessionId),
  ],
);

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type StripeEventRow = typeof stripeEvents.$inferSelect;
