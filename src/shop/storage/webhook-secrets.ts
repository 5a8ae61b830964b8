// Queries of the webhook secrets learnt at runtime (webhook-secret-tables.ts), and the keyring the
// webhook intake verifies with: the configured secrets and the stored ones, minus any the gateway has
// stopped signing with. The keyring reads the table at most every few seconds, plus at most once a
// second after a delivery that matched none, so a new secret is in force at once on the node that
// learnt it and within seconds on the others, while a flood of unsigned requests costs no reads.
import { and, asc, eq, gt, isNull, notInArray, or, sql } from 'drizzle-orm';
import { secretFingerprint } from '../../core/webhook-signature.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import { webhookSecretRotations, webhookSecrets } from './webhook-secret-tables.ts';

export type PendingRotation = typeof webhookSecretRotations.$inferSelect;

/**
 * The rotation to send to the gateway: one recorded earlier that never got its secret (a crash or a
 * lost answer: the same key asks again), else a new one with `key`. Serialised, so two operators at
 * once share one rotation.
 */
export async function claimRotation(
  tx: Executor,
  fresh: PendingRotation,
): Promise<{ rotation: PendingRotation; resumed: boolean }> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('countersign:shop:webhook-secret-rotation'))`);
  const [pending] = await tx
    .select({ rotation: webhookSecretRotations })
    .from(webhookSecretRotations)
    .leftJoin(webhookSecrets, eq(webhookSecrets.rotationKey, webhookSecretRotations.idempotencyKey))
    .where(isNull(webhookSecrets.secret))
    .orderBy(asc(webhookSecretRotations.requestedAt))
    .limit(1);
  if (pending) return { rotation: pending.rotation, resumed: true };
  await tx.insert(webhookSecretRotations).values(fresh);
  return { rotation: fresh, resumed: false };
}

/** Forgets a rotation the gateway refused (nothing was rotated there). */
export async function dropRotation(db: Executor, key: string): Promise<void> {
  await db.delete(webhookSecretRotations).where(eq(webhookSecretRotations.idempotencyKey, key));
}

/**
 * Keeps the secret a rotation brought, and the end of the overlap for every other secret the shop
 * knows (configured ones too), since the gateway stops signing with them then. Idempotent.
 */
export async function learnSecret(
  tx: Executor,
  input: {
    rotationKey: string;
    secret: string;
    addedAt: Date;
    othersExpireAt: Date | null;
    configured: readonly string[];
  },
): Promise<void> {
  await tx
    .insert(webhookSecrets)
    .values({
      secret: input.secret,
      fingerprint: secretFingerprint(input.secret),
      rotationKey: input.rotationKey,
      addedAt: input.addedAt,
    })
    .onConflictDoNothing();
  const until = input.othersExpireAt;
  if (!until) return;
  const configured = input.configured.filter((s) => s !== input.secret);
  if (configured.length > 0)
    await tx
      .insert(webhookSecrets)
      .values(configured.map((secret) => ({ secret, fingerprint: secretFingerprint(secret), addedAt: input.addedAt })))
      .onConflictDoNothing();
  // An expiry already earlier stays (a later rotation never lengthens an overlap).
  await tx
    .update(webhookSecrets)
    .set({ expiresAt: until })
    .where(
      and(
        notInArray(webhookSecrets.secret, [input.secret]),
        or(isNull(webhookSecrets.expiresAt), gt(webhookSecrets.expiresAt, until)),
      ),
    );
}

/** Every stored secret with its expiry (null: none yet), oldest first. */
export async function storedSecrets(db: Executor): Promise<{ secret: string; expiresAt: Date | null }[]> {
  return db
    .select({ secret: webhookSecrets.secret, expiresAt: webhookSecrets.expiresAt })
    .from(webhookSecrets)
    .orderBy(asc(webhookSecrets.addedAt));
}

/** The secrets in force at `now`: the configured ones and the stored ones, minus those past their expiry. */
export function secretsInForce(
  configured: readonly string[],
  stored: readonly { secret: string; expiresAt: Date | null }[],
  now: Date,
): string[] {
  const expired = new Set(stored.filter((s) => s.expiresAt !== null && s.expiresAt <= now).map((s) => s.secret));
  return [...new Set([...configured, ...stored.map((s) => s.secret)])].filter((s) => !expired.has(s));
}

/** The secrets the intake verifies with, read from the database now and then (see the header). */
export interface WebhookKeyring {
  /** The secrets in force (a cached read, at most `refreshMs` old). */
  current(now: Date): Promise<readonly string[]>;
  /** After a delivery matched none: the secrets read again, or null when they were read under a second ago. */
  afterMiss(now: Date): Promise<readonly string[] | null>;
  /** Reads again at the next use (this node just learnt a secret). */
  invalidate(): void;
}

/** A keyring over the configured secrets and the stored ones. */
export function webhookKeyring(deps: {
  database: Database;
  configured: readonly string[];
  log: Pick<Logger, 'error'>;
  refreshMs?: number;
  missRefreshMs?: number;
}): WebhookKeyring {
  const refreshMs = deps.refreshMs ?? 5000;
  const missRefreshMs = deps.missRefreshMs ?? 1000;
  let stored: { secret: string; expiresAt: Date | null }[] = [];
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;
  const read = (): Promise<void> => {
    reading ??= (async () => {
      try {
        stored = await storedSecrets(deps.database.db);
      } catch (err) {
        // The last list read stays in force; the next use tries again.
        deps.log.error({ err }, 'could not read the stored webhook secrets');
      }
      readAt = Date.now();
    })().finally(() => (reading = undefined));
    return reading;
  };
  const inForce = (now: Date) => secretsInForce(deps.configured, stored, now);
  return {
    current: async (now) => {
      if (Date.now() - readAt >= refreshMs) await read();
      return inForce(now);
    },
    afterMiss: async (now) => {
      if (Date.now() - readAt < missRefreshMs) return null;
      await read();
      return inForce(now);
    },
    invalidate: () => {
      readAt = Number.NEGATIVE_INFINITY;
    },
  };
}
