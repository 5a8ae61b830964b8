// A merchant's API keys as the dashboard manages them: list (prefix and last 4 only), revoke, roll.
import { and, desc, eq, isNull, or, gt } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { apiKeys } from './tables.ts';

export type ApiKeyView = {
  id: string;
  prefix: string;
  last4: string | null;
  api: string;
  createdAt: Date;
  revokedAt: Date | null;
  expiresAt: Date | null;
};

/** A merchant's keys, newest first, without their hashes. */
export function listApiKeys(db: Executor, merchantId: string): Promise<ApiKeyView[]> {
  return db
    .select({
      id: apiKeys.id,
      prefix: apiKeys.prefix,
      last4: apiKeys.last4,
      api: apiKeys.api,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
      expiresAt: apiKeys.expiresAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.merchantId, merchantId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
}

/** A merchant's key that still works at `now` (another merchant's key is not found), locked. */
export async function lockLiveApiKey(tx: Executor, merchantId: string, id: string, now: Date) {
  const [row] = await tx
    .select()
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.id, id),
        eq(apiKeys.merchantId, merchantId),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
      ),
    )
    .for('update');
  return row;
}

/** Revokes a key now. */
export async function revokeApiKey(tx: Executor, id: string, clock: Clock): Promise<void> {
  await tx.update(apiKeys).set({ revokedAt: clock.now() }).where(eq(apiKeys.id, id));
}

/** Lets a key work until `at`, then stop (a roll's overlap); never lengthens an expiry already set. */
export async function expireApiKey(tx: Executor, id: string, at: Date, current: Date | null): Promise<void> {
  await tx
    .update(apiKeys)
    .set({ expiresAt: current && current < at ? current : at })
    .where(eq(apiKeys.id, id));
}
