// Users and login sessions. Session tokens are random and only their sha256 is stored. (The
// failed-login counter is login-attempts.ts.)
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Executor } from '../../platform/db/database.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Role } from '../domain/access.ts';
import { appendAudit } from './audit.ts';
import { hashPassword, verifyAgainstDummy, verifyPassword } from '../../platform/passwords.ts';
import { cartViewColumns, cartViewOfRows, type CartView } from './cart.ts';
import { addresses, cartLines, carts, loginFailures, loginSessions, products, users } from './tables.ts';

export type User = typeof users.$inferSelect;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Emails are compared lower-cased and trimmed. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Creates a user; `auth.email_taken` when the email already has an account. */
export async function createUser(
  db: Executor,
  input: { email: string; name: string; password: string; role?: Role },
  now: Date,
): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({
        id: newId('usr', now),
        email: normaliseEmail(input.email),
        name: input.name.trim(),
        passwordHash,
        role: input.role ?? 'customer',
        createdAt: now,
      })
      .onConflictDoNothing({ target: users.email })
      .returning();
    if (!row) throw new DomainError('auth.email_taken', { field: 'email' });
    await appendAudit(tx, { actor: row.id, action: 'user.registered', subject: row.id, data: { role: row.role } }, now);
    return row;
  });
}

/** The user with this email and password, or null (in the same time either way). */
export async function checkCredentials(db: Executor, email: string, password: string): Promise<User | null> {
  const [user] = await db
    .select()
    .from(users)
    .where(eq(users.email, normaliseEmail(email)));
  if (!user) return verifyAgainstDummy(password).then(() => null);
  return (await verifyPassword(password, user.passwordHash)) ? user : null;
}

/** Reads a user by id. */
export async function getUser(db: Executor, id: string): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}

/** Opens a login session; returns the token for the cookie (never stored in clear). */
export async function createLoginSession(db: Executor, userId: string, now: Date, ttlSeconds: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.insert(loginSessions).values({
    id: newId('ses', now),
    tokenHash: sha256(token),
    userId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
  });
  return token;
}

// The session lookups run on every request (ten an order), so each is built once (builtOnce): the
// token's hash and the time are its only values.

/** The session with this token, while it has not expired: the one test every session lookup makes. */
const liveSession = and(
  eq(loginSessions.tokenHash, slot('tokenHash', loginSessions.tokenHash)),
  gt(loginSessions.expiresAt, slot('now', loginSessions.expiresAt)),
);

const liveSessionValues = (token: string, now: Date) => ({ tokenHash: sha256(token), now });

const sessionUser = builtOnce((on) =>
  on
    .select({ user: users })
    .from(loginSessions)
    .innerJoin(users, eq(users.id, loginSessions.userId))
    .where(liveSession)
    .prepare('session_user'),
);

/** The user behind a session token, when the session exists and has not expired. */
export async function userForSession(db: Executor, token: string, now: Date): Promise<User | undefined> {
  if (token.length === 0 || token.length > 100) return undefined;
  const [row] = await sessionUser(db).execute(liveSessionValues(token, now));
  return row?.user;
}

const sessionUserAndCartCount = builtOnce((on) =>
  on
    .select({
      user: users,
      cartCount: sql<number>`(select coalesce(sum(cl.quantity), 0)::int from cart_lines cl join carts c on c.id = cl.cart_id where c.user_id = ${users.id} and c.status = 'open')`,
    })
    .from(loginSessions)
    .innerJoin(users, eq(users.id, loginSessions.userId))
    .where(liveSession)
    .prepare('session_user_cart_count'),
);

/**
 * The session's user and, in the same statement, the number of items in their open cart (the page
 * header's badge), so that a page view costs one query for both instead of two.
 */
export async function userAndCartCountForSession(
  db: Executor,
  token: string,
  now: Date,
): Promise<{ user: User; cartCount: number } | undefined> {
  if (token.length === 0 || token.length > 100) return undefined;
  const [row] = await sessionUserAndCartCount(db).execute(liveSessionValues(token, now));
  return row ? { user: row.user, cartCount: Number(row.cartCount) } : undefined;
}

const sessionUserAndCartView = builtOnce((on) =>
  on
    .select({ user: users, ...cartViewColumns })
    .from(loginSessions)
    .innerJoin(users, eq(users.id, loginSessions.userId))
    .leftJoin(carts, and(eq(carts.userId, users.id), eq(carts.status, 'open')))
    .leftJoin(cartLines, eq(cartLines.cartId, carts.id))
    .leftJoin(products, eq(products.id, cartLines.productId))
    .leftJoin(addresses, eq(addresses.id, carts.addressId))
    .where(liveSession)
    .orderBy(asc(cartLines.addedAt), asc(products.id))
    .prepare('session_user_cart_view'),
);

/**
 * The session's user with their open cart as the cart and checkout pages show it, in one statement
 * (those pages would otherwise read the session and then the cart). `cart` is undefined when the user
 * has no open cart yet; the badge's count is the lines' quantities, as userAndCartCountForSession's.
 */
export async function userAndCartViewForSession(
  db: Executor,
  token: string,
  now: Date,
): Promise<{ user: User; cartCount: number; cart: CartView | undefined } | undefined> {
  if (token.length === 0 || token.length > 100) return undefined;
  const rows = await sessionUserAndCartView(db).execute(liveSessionValues(token, now));
  const first = rows[0];
  if (!first) return undefined;
  const { cart } = first;
  if (!cart) return { user: first.user, cartCount: 0, cart: undefined };
  const view = cartViewOfRows(rows.map((r) => ({ ...r, cart })));
  return { user: first.user, cartCount: view.lines.reduce((n, l) => n + l.quantity, 0), cart: view };
}

/** Ends a login session (log out, or the old session at login: no fixation). */
export async function deleteLoginSession(db: Executor, token: string): Promise<void> {
  await db.delete(loginSessions).where(eq(loginSessions.tokenHash, sha256(token)));
}

/** Deletes failures older than the window and expired login sessions (the recurring job `shop.accounts.prune`). */
export async function pruneAccountRecords(db: Executor, now: Date, windowSeconds: number): Promise<void> {
  await db.delete(loginFailures).where(lt(loginFailures.at, new Date(now.getTime() - windowSeconds * 1000)));
  await db.delete(loginSessions).where(lt(loginSessions.expiresAt, now));
}
