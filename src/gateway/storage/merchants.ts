// Merchants, their API keys (sha256 only, compared in constant time) and signing secrets.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, ne, asc, notInArray } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { ApiDialect } from '../domain/stripe.ts';
import { apiKeys, merchants, signingSecrets, type MerchantRow } from './tables.ts';

/** The demo merchant's fixed id, so that a restart finds the same merchant. */
export const DEMO_MERCHANT_ID = 'mer_0000000000000000000000DEM0';

/** sha256 of an API key, hex: what the api_keys table stores. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A fresh secret API key, shown to the merchant once. */
export function newApiKey(): string {
  return `sk_test_${randomBytes(24).toString('base64url')}`;
}

/** Stores an API key's hash for a merchant, speaking `api` (native by default); idempotent for the same key. */
export async function addApiKey(
  db: Executor,
  merchantId: string,
  key: string,
  clock: Clock,
  api: ApiDialect = 'native',
): Promise<void> {
  await db
    .insert(apiKeys)
    .values({
      id: newId('key', clock.now()),
      merchantId,
      hash: hashApiKey(key),
      prefix: key.slice(0, 12),
      api,
      createdAt: clock.now(),
    })
    // The configured dialect of a configured key is the truth (for this merchant's key only).
    .onConflictDoUpdate({ target: apiKeys.hash, set: { api }, where: eq(apiKeys.merchantId, merchantId) });
}

/** Creates (or, for the same id, updates) a merchant with one key and one signing secret. */
export async function upsertMerchant(
  db: Executor,
  input: {
    id?: string;
    name: string;
    webhookUrl: string | null;
    apiKey: string;
    /** A second key speaking Stripe's API. */
    stripeApiKey?: string | null;
    webhookSecret: string;
    ackWindowSeconds?: number;
  },
  clock: Clock,
): Promise<MerchantRow> {
  const now = clock.now();
  const id = input.id ?? newId('mer', now);
  const [merchant] = await db
    .insert(merchants)
    .values({
      id,
      name: input.name,
      webhookUrl: input.webhookUrl,
      ackWindowSeconds: input.ackWindowSeconds ?? 900,
      createdAt: now,
    })
    .onConflictDoUpdate({ target: merchants.id, set: { name: input.name, webhookUrl: input.webhookUrl } })
    .returning();
  await addApiKey(db, id, input.apiKey, clock);
  if (input.stripeApiKey) await addApiKey(db, id, input.stripeApiKey, clock, 'stripe');
  // Configuration is the truth for a configured merchant: other keys are revoked.
  const kept = [input.apiKey, ...(input.stripeApiKey ? [input.stripeApiKey] : [])].map(hashApiKey);
  await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.merchantId, id), notInArray(apiKeys.hash, kept), isNull(apiKeys.revokedAt)));
  await db
    .insert(signingSecrets)
    .values({ id: newId('key', now), merchantId: id, secret: input.webhookSecret, createdAt: now })
    .onConflictDoUpdate({ target: [signingSecrets.merchantId, signingSecrets.secret], set: { retiredAt: null } });
  await db
    .update(signingSecrets)
    .set({ retiredAt: now })
    .where(
      and(
        eq(signingSecrets.merchantId, id),
        ne(signingSecrets.secret, input.webhookSecret),
        isNull(signingSecrets.retiredAt),
      ),
    );
  return merchant!;
}

/** The merchant owning an active key and the dialect the key speaks, or null. */
export async function findApiKeyOwner(
  db: Executor,
  key: string,
): Promise<{ merchant: MerchantRow; api: ApiDialect } | null> {
  const hash = hashApiKey(key);
  const [row] = await db
    .select({ merchant: merchants, hash: apiKeys.hash, api: apiKeys.api })
    .from(apiKeys)
    .innerJoin(merchants, eq(merchants.id, apiKeys.merchantId))
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)));
  // The index finds the row by hash; the comparison that decides is still constant-time.
  if (!row || !timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash))) return null;
  return { merchant: row.merchant, api: row.api };
}

/** The merchant owning a key (either dialect: /v1 sends Stripe-dialect keys elsewhere first), or auth.invalid_credentials. */
export async function authenticateApiKey(db: Executor, key: string): Promise<MerchantRow> {
  const owner = await findApiKeyOwner(db, key);
  if (!owner) throw new DomainError('auth.invalid_credentials');
  return owner.merchant;
}

/** A merchant by id. */
export async function findMerchant(db: Executor, id: string): Promise<MerchantRow | undefined> {
  const [row] = await db.select().from(merchants).where(eq(merchants.id, id));
  return row;
}

/** Switches a merchant's webhook endpoint on (the dashboard) or off (it answered 410). */
export async function setWebhookEnabled(db: Executor, merchantId: string, enabled: boolean): Promise<void> {
  await db.update(merchants).set({ webhookEnabled: enabled }).where(eq(merchants.id, merchantId));
}

/** Active signing secrets, oldest first (at most two are active during a rotation). */
export async function activeSecrets(db: Executor, merchantId: string): Promise<string[]> {
  const list = await db
    .select({ secret: signingSecrets.secret })
    .from(signingSecrets)
    .where(and(eq(signingSecrets.merchantId, merchantId), isNull(signingSecrets.retiredAt)))
    .orderBy(asc(signingSecrets.createdAt));
  return list.map((s) => s.secret);
}

/** Adds a signing secret; the oldest active ones are retired so that at most two stay active. */
export async function rotateSecret(db: Executor, merchantId: string, clock: Clock, secret: string): Promise<void> {
  const now = clock.now();
  await db.insert(signingSecrets).values({ id: newId('key', now), merchantId, secret, createdAt: now });
  const active = await db
    .select({ id: signingSecrets.id })
    .from(signingSecrets)
    .where(and(eq(signingSecrets.merchantId, merchantId), isNull(signingSecrets.retiredAt)))
    .orderBy(asc(signingSecrets.createdAt));
  for (const old of active.slice(0, Math.max(0, active.length - 2))) {
    await db.update(signingSecrets).set({ retiredAt: now }).where(eq(signingSecrets.id, old.id));
  }
}
