// Idempotency keys, Stripe's way. The row is inserted in its own transaction before the request
// runs, so the primary key (merchant, key) decides concurrent races: exactly one request claims
// it, the others see it in progress or, later, replay its stored response.
import { and, eq, lt } from 'drizzle-orm';
import { idempotencyKeyMachine } from '../domain/idempotency-key.machine.ts';
import type { Clock } from '../../platform/clock.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import { idempotencyKeys } from './tables.ts';

/** How long an in-progress claim may hold before it counts as abandoned by a crashed process. */
export const ABANDONED_AFTER_MS = 5 * 60 * 1000;

export type IdempotencyClaim =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'in_progress' }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'replay'; readonly status: number; readonly body: string };

// Every API write claims and completes a key: both built once (builtOnce), every value a placeholder.
const claim = builtOnce((on) => {
  const requestHash = slot('requestHash', idempotencyKeys.requestHash);
  const now = slot('now', idempotencyKeys.createdAt);
  return on
    .insert(idempotencyKeys)
    .values({
      merchantId: slot('merchantId', idempotencyKeys.merchantId),
      key: slot('key', idempotencyKeys.key),
      requestHash,
      state: 'in_progress',
      createdAt: now,
    })
    .onConflictDoUpdate({
      target: [idempotencyKeys.merchantId, idempotencyKeys.key],
      // Still in progress (the condition): the state stays; the claim is this request's from now.
      set: { requestHash, responseStatus: null, responseBody: null, createdAt: now },
      setWhere: and(
        eq(idempotencyKeys.state, 'in_progress'),
        lt(idempotencyKeys.createdAt, slot('abandonedBefore', idempotencyKeys.createdAt)),
      ),
    })
    .returning({ key: idempotencyKeys.key })
    .prepare('claim_idempotency_key');
});

// Only a claim still in progress completes; the machine names the state it moves to.
const complete = builtOnce((on) =>
  on
    .update(idempotencyKeys)
    .set({
      state: idempotencyKeyMachine.apply('in_progress', 'complete').state,
      responseStatus: slot('status', idempotencyKeys.responseStatus),
      responseBody: slot('body', idempotencyKeys.responseBody),
    })
    .where(
      and(
        eq(idempotencyKeys.merchantId, slot('merchantId', idempotencyKeys.merchantId)),
        eq(idempotencyKeys.key, slot('key', idempotencyKeys.key)),
        eq(idempotencyKeys.state, 'in_progress'),
      ),
    )
    .prepare('complete_idempotency_key'),
);

/** Claims a key for a request hash, or reports what the earlier request with this key left. */
export async function claimIdempotencyKey(
  db: Executor,
  merchantId: string,
  key: string,
  requestHash: string,
  clock: Clock,
): Promise<IdempotencyClaim> {
  // A claim still in progress after this long belongs to a process that died mid-request: a
  // retry takes it over (the request's effects are transactional, so none was half-written), in the
  // same statement as the claim. Two retries at once: the row lock lets one through, and the other
  // sees the fresh claim in progress.
  const now = clock.now();
  const inserted = await claim(db).execute({
    merchantId,
    key,
    requestHash,
    now,
    abandonedBefore: new Date(now.getTime() - ABANDONED_AFTER_MS),
  });
  if (inserted.length === 1) return { kind: 'claimed' };
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.merchantId, merchantId), eq(idempotencyKeys.key, key)));
  // Deleted between our insert and select (the first request failed and released it): ask to retry.
  if (!row) return { kind: 'in_progress' };
  if (row.requestHash !== requestHash) return { kind: 'mismatch' };
  if (row.state === 'in_progress') return { kind: 'in_progress' };
  return { kind: 'replay', status: row.responseStatus ?? 500, body: row.responseBody ?? '' };
}

/** Stores the response of the request that claimed the key. */
export async function completeIdempotencyKey(
  db: Executor,
  merchantId: string,
  key: string,
  status: number,
  body: string,
): Promise<void> {
  await complete(db).execute({ merchantId, key, status, body });
}

/** Forgets a claim whose request failed on our side (5xx), so that a retry with the key runs again. */
export async function releaseIdempotencyKey(db: Executor, merchantId: string, key: string): Promise<void> {
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.merchantId, merchantId), eq(idempotencyKeys.key, key)));
}

/** Deletes keys older than the retention (at least 24 h); returns how many. */
export async function pruneIdempotencyKeys(db: Executor, olderThan: Date): Promise<number> {
  const gone = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, olderThan))
    .returning({ key: idempotencyKeys.key });
  return gone.length;
}
