// Dashboard users of a merchant and the failed-login counters (sha256 of each limit key).
import { createHash } from 'node:crypto';
import { and, asc, eq, gt, inArray, lt } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { normalizeEmail, type DashboardRole } from '../domain/dashboard-account.rule.ts';
import { dashboardLoginFailures, dashboardUsers, type DashboardUserRow } from './account-tables.ts';

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/** Adds a user; null when the e-mail is taken (by anyone, any merchant). */
export async function insertDashboardUser(
  db: Executor,
  input: { merchantId: string; email: string; passwordHash: string; role: DashboardRole },
  clock: Clock,
): Promise<DashboardUserRow | null> {
  const [row] = await db
    .insert(dashboardUsers)
    .values({ ...input, id: newId('usr', clock.now()), email: normalizeEmail(input.email), createdAt: clock.now() })
    .onConflictDoNothing({ target: dashboardUsers.email })
    .returning();
  return row ?? null;
}

/** The user with this e-mail (any case), or undefined. */
export async function findDashboardUserByEmail(db: Executor, email: string): Promise<DashboardUserRow | undefined> {
  const [row] = await db
    .select()
    .from(dashboardUsers)
    .where(eq(dashboardUsers.email, normalizeEmail(email)));
  return row;
}

/** A merchant's user by id, or undefined (another merchant's user is not found). */
export async function findDashboardUser(
  db: Executor,
  merchantId: string,
  id: string,
): Promise<DashboardUserRow | undefined> {
  const [row] = await db
    .select()
    .from(dashboardUsers)
    .where(and(eq(dashboardUsers.id, id), eq(dashboardUsers.merchantId, merchantId)));
  return row;
}

/** A merchant's users, oldest first. */
export function listDashboardUsers(db: Executor, merchantId: string): Promise<DashboardUserRow[]> {
  return db
    .select()
    .from(dashboardUsers)
    .where(eq(dashboardUsers.merchantId, merchantId))
    .orderBy(asc(dashboardUsers.createdAt), asc(dashboardUsers.id));
}

/** Removes a merchant's member (never an owner); false when there is no such member. */
export async function removeDashboardMember(db: Executor, merchantId: string, id: string): Promise<boolean> {
  const gone = await db
    .delete(dashboardUsers)
    .where(and(eq(dashboardUsers.id, id), eq(dashboardUsers.merchantId, merchantId), eq(dashboardUsers.role, 'member')))
    .returning({ id: dashboardUsers.id });
  return gone.length > 0;
}

/** Failures per key within the window ending now. */
export async function recentFailures(db: Executor, keys: readonly string[], since: Date): Promise<Map<string, number>> {
  const hashes = keys.map(sha256);
  const found = await db
    .select({ keyHash: dashboardLoginFailures.keyHash })
    .from(dashboardLoginFailures)
    .where(and(inArray(dashboardLoginFailures.keyHash, hashes), gt(dashboardLoginFailures.failedAt, since)));
  return new Map(keys.map((k, i) => [k, found.filter((f) => f.keyHash === hashes[i]).length]));
}

/** Counts one failure against each key. */
export async function recordFailure(db: Executor, keys: readonly string[], now: Date): Promise<void> {
  await db.insert(dashboardLoginFailures).values(keys.map((k) => ({ keyHash: sha256(k), failedAt: now })));
}

/** Forgets an account's failures (after a successful login). */
export async function clearFailures(db: Executor, key: string): Promise<void> {
  await db.delete(dashboardLoginFailures).where(eq(dashboardLoginFailures.keyHash, sha256(key)));
}

/** Drops failures older than `before` (the housekeeping job), so the table does not grow without bound. */
export async function pruneFailures(db: Executor, before: Date): Promise<void> {
  await db.delete(dashboardLoginFailures).where(lt(dashboardLoginFailures.failedAt, before));
}
