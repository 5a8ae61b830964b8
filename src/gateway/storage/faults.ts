// Fault settings per merchant and the draws that decide each injected fault.
import { and, eq, sql } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { draw, faultConfigSchema, type FaultConfig } from '../domain/faults.ts';
import { faultSettings } from './tables.ts';

/** Sets (replaces) a merchant's fault injection; the counter restarts so the seed replays from the start. */
export async function setFaults(
  db: Executor,
  merchantId: string,
  input: { enabled: boolean; seed: string; config: FaultConfig },
  clock: Clock,
): Promise<void> {
  const values = {
    merchantId,
    enabled: input.enabled,
    seed: input.seed,
    apiCounter: 0,
    webhookCounter: 0,
    config: input.config,
    updatedAt: clock.now(),
  };
  await db.insert(faultSettings).values(values).onConflictDoUpdate({ target: faultSettings.merchantId, set: values });
}

/** The merchant's fault settings, or null when off. */
export async function readFaults(
  db: Executor,
  merchantId: string,
): Promise<{ enabled: boolean; seed: string; config: FaultConfig } | null> {
  const [row] = await db.select().from(faultSettings).where(eq(faultSettings.merchantId, merchantId));
  if (!row) return null;
  return { enabled: row.enabled, seed: row.seed, config: faultConfigSchema.parse(row.config) };
}

/**
 * Draws the next number for a merchant with faults on (null when off): the counter is bumped
 * atomically so concurrent draws never reuse a number. `faultsOn` is the switch as read with the
 * merchant (the key lookup, the delivery's merchant read): false, as for nearly every merchant, draws
 * without a statement; a switch turned on meanwhile takes effect from the next request. Unknown: the
 * UPDATE decides.
 */
export async function nextDraw(
  db: Executor,
  merchantId: string,
  stream: 'api' | 'webhook',
  faultsOn: boolean | undefined,
): Promise<{ pick: (kind: string) => number; config: FaultConfig } | null> {
  if (faultsOn === false) return null;
  const column = stream === 'api' ? faultSettings.apiCounter : faultSettings.webhookCounter;
  const [row] = await db
    .update(faultSettings)
    .set(stream === 'api' ? { apiCounter: sql`${column} + 1` } : { webhookCounter: sql`${column} + 1` })
    .where(and(eq(faultSettings.merchantId, merchantId), eq(faultSettings.enabled, true)))
    .returning();
  if (!row) return null;
  const n = stream === 'api' ? row.apiCounter : row.webhookCounter;
  return { pick: (kind) => draw(row.seed, `${stream}:${n}:${kind}`), config: faultConfigSchema.parse(row.config) };
}
