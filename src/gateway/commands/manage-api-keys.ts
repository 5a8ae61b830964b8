// The merchant's API keys from the dashboard: create, revoke, roll. Rolling makes a new key (same
// dialect) at once and lets the old one work for a chosen overlap, so that the integration can move to
// the new key before the old one stops. New secrets are returned once, for the page to show once.
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { expireApiKey, lockLiveApiKey, revokeApiKey } from '../storage/api-keys.ts';
import { addApiKey, newApiKey } from '../storage/merchants.ts';

/** The overlaps a roll may choose, in seconds: now, one hour, one day. */
export const ROLL_OVERLAPS = [0, 3600, 86400] as const;

type Deps = { database: Database; clock: Clock };

/** Creates a key speaking our API; returns the secret, to be shown once. */
export async function createApiKey(deps: Deps, merchantId: string): Promise<string> {
  const key = newApiKey();
  await addApiKey(deps.database.db, merchantId, key, deps.clock);
  return key;
}

/** Revokes a live key of the merchant now; false when it has none by this id. */
export function revokeKey(deps: Deps, merchantId: string, id: string): Promise<boolean> {
  return deps.database.transaction(async (tx) => {
    const key = await lockLiveApiKey(tx, merchantId, id, deps.clock.now());
    if (!key) return false;
    await revokeApiKey(tx, key.id, deps.clock);
    return true;
  });
}

/** Rolls a live key: a new key now, the old one stops after `overlapSeconds`; null when there is no such key. */
export function rollKey(
  deps: Deps,
  merchantId: string,
  id: string,
  overlapSeconds: (typeof ROLL_OVERLAPS)[number],
): Promise<{ key: string; oldExpiresAt: Date } | null> {
  return deps.database.transaction(async (tx) => {
    const now = deps.clock.now();
    const old = await lockLiveApiKey(tx, merchantId, id, now);
    if (!old) return null;
    const key = newApiKey();
    await addApiKey(tx, merchantId, key, deps.clock, old.api);
    const at = new Date(now.getTime() + overlapSeconds * 1000);
    if (overlapSeconds === 0) await revokeApiKey(tx, old.id, deps.clock);
    else await expireApiKey(tx, old.id, at, old.expiresAt);
    return { key, oldExpiresAt: at };
  });
}
