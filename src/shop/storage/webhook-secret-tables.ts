// Webhook signing secrets the shop learnt at runtime (`countersign secrets rotate`), beside the ones
// in SHOP_GATEWAY_WEBHOOK_SECRETS: kept in the database so that every node and every restart verifies
// with them. A rotation is recorded (with its Idempotency-Key) before the gateway is asked, so that an
// answer lost to a crash is asked for again with the same key and is the same secret.
import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.ts';

export const webhookSecretRotations = pgTable('webhook_secret_rotations', {
  // Sent to the gateway as the Idempotency-Key; a rotation without a secret below is still to finish.
  idempotencyKey: text('idempotency_key').primaryKey(),
  overlapSeconds: integer('overlap_seconds').notNull(),
  requestedAt: ts('requested_at').notNull(),
});

export const webhookSecrets = pgTable('webhook_secrets', {
  // In clear, as in the environment: verifying needs it. Never logged; shown as its fingerprint.
  secret: text('secret').primaryKey(),
  fingerprint: text('fingerprint').notNull(),
  // The rotation that brought it (null: a configured secret, recorded only to carry its expiry).
  rotationKey: text('rotation_key')
    .unique()
    .references(() => webhookSecretRotations.idempotencyKey),
  addedAt: ts('added_at').notNull(),
  // When the gateway stops signing with it (the end of a later rotation's overlap); refused after.
  expiresAt: ts('expires_at'),
});
