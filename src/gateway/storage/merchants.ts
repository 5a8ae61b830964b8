// Merchants, their API keys (sha256 only, compared in constant time) and signing secrets.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, desc, eq, gt, inArray, isNull, ne, notInArray, or, sql } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
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
      last4: key.slice(-4),
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
    .onConflictDoUpdate({
      target: merchants.id,
      // The operator's URL again: trusted as the operator's (not the merchant's) until changed in the dashboard.
      set: { name: input.name, webhookUrl: input.webhookUrl, selfServe: false },
    })
    .returning();
  const kept = [input.apiKey, ...(input.stripeApiKey ? [input.stripeApiKey] : [])].map(hashApiKey);
  const known = await db
    .select({ hash: apiKeys.hash })
    .from(apiKeys)
    .where(and(eq(apiKeys.merchantId, id), inArray(apiKeys.hash, kept)));
  await addApiKey(db, id, input.apiKey, clock);
  if (input.stripeApiKey) await addApiKey(db, id, input.stripeApiKey, clock, 'stripe');
  // A changed configured key is the operator replacing the merchant's keys: the others are revoked. The
  // same configuration at a restart leaves alone the keys the merchant made in the dashboard since.
  if (known.length < kept.length)
    await db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.merchantId, id), notInArray(apiKeys.hash, kept), isNull(apiKeys.revokedAt)));
  await configureSecret(db, id, input.webhookSecret, now);
  return merchant!;
}

/** Whether the row's merchant has fault injection on, as a column of the statement that reads the merchant. */
/** Whether the merchant (the row of the statement) has fault injection on: one EXISTS on the same statement. */
export const merchantFaultsOn = () =>
  sql<boolean>`exists (select 1 from fault_settings f where f.merchant_id = ${merchants.id} and f.enabled)`;

/** A signing secret not retired, with its expiry (epoch ms, or null): in force until then. */
export interface UnretiredSecret {
  readonly secret: string;
  readonly expiresAtMs: number | null;
}

/**
 * The merchant's unretired signing secrets, oldest first, as a column of a query on merchants (a
 * delivery reads them with its merchant instead of in a statement of their own); `inForceAt` picks
 * those that sign at a given moment, as activeSecrets does.
 */
export const merchantUnretiredSecrets = () =>
  sql<
    UnretiredSecret[]
  >`(select coalesce(json_agg(json_build_object('secret', s.secret, 'expiresAtMs', (extract(epoch from s.expires_at) * 1000)::float8) order by s.created_at), '[]'::json)
        from signing_secrets s where s.merchant_id = ${merchants.id} and s.retired_at is null)`;

/** Of the unretired secrets, those in force at `at` (the ones activeSecrets would read then). */
export function inForceAt(secrets: readonly UnretiredSecret[], at: Date): string[] {
  return secrets.filter((s) => s.expiresAtMs === null || s.expiresAtMs > at.getTime()).map((s) => s.secret);
}

// Every API request reads its key's owner: built once (builtOnce), the key's hash its one value.
const apiKeyOwner = builtOnce((on) =>
  on
    .select({
      merchant: merchants,
      hash: apiKeys.hash,
      api: apiKeys.api,
      // Read with the key, so that a request of a merchant without fault injection (nearly all) draws nothing.
      faultsOn: merchantFaultsOn(),
    })
    .from(apiKeys)
    .innerJoin(merchants, eq(merchants.id, apiKeys.merchantId))
    // A rolled key works until its expiry (the database's clock, as every request's).
    .where(
      and(
        eq(apiKeys.hash, slot('hash', apiKeys.hash)),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)),
      ),
    )
    .prepare('api_key_owner'),
);

/** The merchant owning an active key and the dialect the key speaks, or null. */
export async function findApiKeyOwner(
  db: Executor,
  key: string,
): Promise<{ merchant: MerchantRow; api: ApiDialect; faultsOn: boolean } | null> {
  const hash = hashApiKey(key);
  const [row] = await apiKeyOwner(db).execute({ hash });
  // The index finds the row by hash; the comparison that decides is still constant-time.
  if (!row || !timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash))) return null;
  return { merchant: row.merchant, api: row.api, faultsOn: row.faultsOn === true };
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

/** Sets the webhook URL a merchant gave in the dashboard (null: none); deliveries to it go through the outbound guard. */
export async function setWebhookUrl(db: Executor, merchantId: string, url: string | null): Promise<void> {
  await db.update(merchants).set({ webhookUrl: url, selfServe: true }).where(eq(merchants.id, merchantId));
}

/** Switches a merchant's webhook endpoint on (the dashboard) or off (it answered 410). */
export async function setWebhookEnabled(db: Executor, merchantId: string, enabled: boolean): Promise<void> {
  await db.update(merchants).set({ webhookEnabled: enabled }).where(eq(merchants.id, merchantId));
}

/**
 * The configured secret of a configured merchant: a secret not seen before for this merchant (the
 * operator changed it) becomes the only active one; a known one changes nothing, so that a restart
 * with the same configuration keeps a rotation made since (API or dashboard) instead of undoing it.
 */
async function configureSecret(db: Executor, merchantId: string, secret: string, now: Date): Promise<void> {
  const [added] = await db
    .insert(signingSecrets)
    .values({ id: newId('key', now), merchantId, secret, createdAt: now })
    .onConflictDoNothing({ target: [signingSecrets.merchantId, signingSecrets.secret] })
    .returning({ id: signingSecrets.id });
  if (!added) return;
  await db
    .update(signingSecrets)
    .set({ retiredAt: now })
    .where(
      and(eq(signingSecrets.merchantId, merchantId), ne(signingSecrets.id, added.id), isNull(signingSecrets.retiredAt)),
    );
}

/** Signing secrets in force at `now` (not retired, not past their expiry), oldest first: at most two, during a rotation. */
export async function activeSecrets(db: Executor, merchantId: string, now: Date): Promise<string[]> {
  const list = await db
    .select({ secret: signingSecrets.secret })
    .from(signingSecrets)
    .where(and(eq(signingSecrets.merchantId, merchantId), inForce(now)))
    .orderBy(asc(signingSecrets.createdAt));
  return list.map((s) => s.secret);
}

function inForce(now: Date) {
  return and(isNull(signingSecrets.retiredAt), or(isNull(signingSecrets.expiresAt), gt(signingSecrets.expiresAt, now)));
}

/** The default overlap of a rotation: the old secret keeps signing beside the new one this long. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

/**
 * Adds a signing secret. The newest older one in force keeps signing for `overlapSeconds` more (its
 * receivers learn the new one meanwhile), and any older still are retired now, so at most two sign.
 * Call it in a transaction: the merchant's row is locked so that two rotations cannot interleave.
 */
export async function rotateSecret(
  db: Executor,
  merchantId: string,
  clock: Clock,
  secret: string,
  overlapSeconds = DEFAULT_ROTATION_OVERLAP_SECONDS,
): Promise<{ id: string; createdAt: Date; oldExpiresAt: Date | null }> {
  const now = clock.now();
  await db.select({ id: merchants.id }).from(merchants).where(eq(merchants.id, merchantId)).for('update');
  const older = await db
    .select({ id: signingSecrets.id, expiresAt: signingSecrets.expiresAt })
    .from(signingSecrets)
    .where(and(eq(signingSecrets.merchantId, merchantId), inForce(now)))
    .orderBy(desc(signingSecrets.createdAt));
  const id = newId('key', now);
  await db.insert(signingSecrets).values({ id, merchantId, secret, createdAt: now });
  const [previous, ...oldest] = older;
  for (const old of oldest)
    await db.update(signingSecrets).set({ retiredAt: now }).where(eq(signingSecrets.id, old.id));
  if (!previous) return { id, createdAt: now, oldExpiresAt: null };
  // A shorter overlap never lengthens an expiry already set.
  const until = new Date(now.getTime() + overlapSeconds * 1000);
  const oldExpiresAt = previous.expiresAt && previous.expiresAt < until ? previous.expiresAt : until;
  await db.update(signingSecrets).set({ expiresAt: oldExpiresAt }).where(eq(signingSecrets.id, previous.id));
  return { id, createdAt: now, oldExpiresAt };
}
