// Login sessions: the cookie carries a random token; the table keeps its sha256 (a leaked table logs
// nobody in) and the session's CSRF token. Failed logins are counted per e-mail and per address.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { and, count, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/database.ts';
import { bankSessions, cardholders, loginFailures } from '../storage/tables.ts';

export const SESSION_COOKIE = 'bank_session';
export const SESSION_HOURS = 12;
/** Failed logins allowed per e-mail in the window. */
export const LOGIN_FAILURE_LIMIT = 5;
/** Failed logins allowed per client address in the window: higher, since many people share one (NAT). */
export const LOGIN_FAILURE_LIMIT_PER_ADDRESS = 50;
export const LOGIN_WINDOW_MINUTES = 15;

export interface BankSession {
  readonly cardholderId: string;
  readonly email: string;
  readonly name: string;
  readonly csrfToken: string;
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Compares two tokens in constant time (length is not secret). */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Opens a session; returns the cookie token (only ever in the cookie). */
export async function createSession(executor: Executor, cardholderId: string, now: Date): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await executor.insert(bankSessions).values({
    tokenHash: tokenHash(token),
    cardholderId,
    csrfToken: randomBytes(24).toString('base64url'),
    createdAt: now,
    expiresAt: new Date(now.getTime() + SESSION_HOURS * 3600_000),
  });
  return token;
}

/** The live session for a cookie token, if any. */
export async function findSession(
  executor: Executor,
  token: string | undefined,
  now: Date,
): Promise<BankSession | undefined> {
  if (!token || token.length > 100) return undefined;
  const [row] = await executor
    .select({
      cardholderId: bankSessions.cardholderId,
      csrfToken: bankSessions.csrfToken,
      email: cardholders.email,
      name: cardholders.name,
    })
    .from(bankSessions)
    .innerJoin(cardholders, eq(cardholders.id, bankSessions.cardholderId))
    .where(and(eq(bankSessions.tokenHash, tokenHash(token)), gt(bankSessions.expiresAt, now)));
  return row;
}

/** Ends a session (logout). */
export async function deleteSession(executor: Executor, token: string): Promise<void> {
  await executor.delete(bankSessions).where(eq(bankSessions.tokenHash, tokenHash(token)));
}

/**
 * Reserves one login attempt under every key (`email:…`, `ip:…`) as a provisional failure, or returns
 * undefined when a key has used up its failures in the window. Count and insert happen in one
 * transaction under a per-key advisory lock, BEFORE the password is checked: a burst of simultaneous
 * attempts cannot all read the same count and all get a password checked. Returns the rows' ids, for
 * `takeBackLoginAttempt` when the password was right.
 */
export async function reserveLoginAttempt(
  database: Database,
  keys: readonly string[],
  now: Date,
): Promise<string[] | undefined> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MINUTES * 60_000);
  return database.transaction(async (tx) => {
    // Always in the same order, so two attempts never wait on each other in a cycle.
    const sorted = [...keys].sort();
    for (const key of sorted)
      await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`countersign:bank:login:${key}`}, 0))`);
    for (const key of sorted) {
      const [row] = await tx
        .select({ n: count() })
        .from(loginFailures)
        .where(and(eq(loginFailures.key, key), gt(loginFailures.at, since)));
      const limit = key.startsWith('ip:') ? LOGIN_FAILURE_LIMIT_PER_ADDRESS : LOGIN_FAILURE_LIMIT;
      if ((row?.n ?? 0) >= limit) return undefined;
    }
    await tx.delete(loginFailures).where(lt(loginFailures.at, since));
    const rows = sorted.map((key) => ({ id: randomUUID(), key, at: now }));
    await tx.insert(loginFailures).values(rows);
    return rows.map((r) => r.id);
  });
}

/** The password was right: the reserved attempt was no failure. */
export async function takeBackLoginAttempt(executor: Executor, ids: readonly string[]): Promise<void> {
  await executor.delete(loginFailures).where(inArray(loginFailures.id, [...ids]));
}
