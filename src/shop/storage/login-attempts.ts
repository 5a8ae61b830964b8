// The failed-login counter, in the database so that the limits hold across nodes. An attempt is
// reserved as a failure BEFORE its password is checked, under a transaction-scoped advisory lock per
// key: two simultaneous attempts cannot both read "4 failures" and both go on to check a password
// (a read-then-write limit lets a burst of N requests check N passwords). A successful login takes
// its reservation back. Keys are stored hashed (`account:<sha256>`, `address:<sha256>`): the table
// holds no e-mail addresses or client addresses in clear. Rows past the window are only ignored here;
// the recurring job `shop.accounts.prune` deletes them, off the login path.
import { createHash } from 'node:crypto';
import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/database.ts';
import { rows } from '../../platform/db/database.ts';
import type { LimitKey, LimitKind, LoginLimits } from '../domain/login-limit.ts';
import { loginFailures } from './tables.ts';

/** A reserved attempt (its provisional failure rows), or the limit that refused it. */
export type Reservation =
  | { readonly ok: true; readonly ids: readonly number[]; readonly accountKey: string; readonly accountRowId: number }
  | { readonly ok: false; readonly blocked: LimitKind };

function stored(key: LimitKey): string {
  return `${key.kind}:${createHash('sha256').update(key.key).digest('hex')}`;
}

/**
 * Reserves one attempt under every key, or refuses it when a key has used up its failures within the
 * window. The reservation counts as a failure until `takeBack` removes it; a crash in between leaves
 * it counted (fail closed).
 */
export async function reserveLoginAttempt(
  database: Database,
  keys: readonly LimitKey[],
  now: Date,
  windowSeconds: number,
): Promise<Reservation> {
  const since = new Date(now.getTime() - windowSeconds * 1000);
  const hashed = keys.map((k) => ({ ...k, stored: stored(k) }));
  return database.transaction(async (tx) => {
    // Always the same order (account, then address), so two attempts never wait on each other in a cycle.
    for (const k of hashed)
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`countersign:shop:login:${k.stored}`}, 0))`);
    const counts = await rows<{ key: string; n: number }>(
      tx,
      sql`select ${loginFailures.keyHash} as key, count(*)::int as n from ${loginFailures}
          where ${inArray(
            loginFailures.keyHash,
            hashed.map((k) => k.stored),
          )} and ${loginFailures.at} > ${since}
          group by ${loginFailures.keyHash}`,
    );
    for (const k of hashed) {
      const n = Number(counts.find((c) => c.key === k.stored)?.n ?? 0);
      if (n >= k.limit) return { ok: false, blocked: k.kind } as const;
    }
    const inserted = await tx
      .insert(loginFailures)
      .values(hashed.map((k) => ({ keyHash: k.stored, at: now })))
      .returning({ id: loginFailures.id, keyHash: loginFailures.keyHash });
    const account = inserted.find((r) => r.keyHash.startsWith('account:'));
    return {
      ok: true,
      ids: inserted.map((r) => r.id),
      accountKey: account?.keyHash ?? '',
      accountRowId: account?.id ?? 0,
    } as const;
  });
}

/**
 * After a successful login: the attempt was not a failure, and the account's failures from before it
 * are forgiven — not those reserved after it (ids grow under the key's lock), which may be a
 * stranger's guesses still in flight. The address's other failures stay: logging in to one's own
 * account must not reset the count of an address that guesses at others'.
 */
export async function takeBack(db: Executor, reservation: Extract<Reservation, { ok: true }>): Promise<void> {
  const earlier = and(
    eq(loginFailures.keyHash, reservation.accountKey),
    lt(loginFailures.id, reservation.accountRowId),
  );
  await db.delete(loginFailures).where(or(inArray(loginFailures.id, [...reservation.ids]), earlier));
}

/** How many accounts and addresses are refused right now (staff console). */
export async function blockedNow(
  db: Executor,
  now: Date,
  limits: LoginLimits,
): Promise<{ accounts: number; addresses: number }> {
  const since = new Date(now.getTime() - limits.windowSeconds * 1000);
  const [row] = await rows<{ accounts: number; addresses: number }>(
    db,
    sql`select count(*) filter (where kind = 'account')::int as accounts, count(*) filter (where kind = 'address')::int as addresses
        from (select split_part(${loginFailures.keyHash}, ':', 1) as kind, count(*) as n from ${loginFailures}
              where ${loginFailures.at} > ${since} group by ${loginFailures.keyHash}) k
        where n >= case kind when 'account' then ${limits.maxFailuresPerAccount}::int else ${limits.maxFailuresPerAddress}::int end`,
  );
  return { accounts: Number(row?.accounts ?? 0), addresses: Number(row?.addresses ?? 0) };
}
