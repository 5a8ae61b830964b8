// The bank app's session edge: the environment its routes see, the session guard (a page without a
// session redirects to /login, a JSON caller gets 401; every non-GET needs the session's CSRF token).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import { findSession, SESSION_COOKIE, tokensEqual, type BankSession } from '../auth/sessions.ts';

export type BankEnv = AppEnv<{ session: BankSession; nonce: string }>;

/** Whether the caller wants JSON (the app's script) rather than a page. */
export const wantsJson = (c: Context) =>
  (c.req.header('accept') ?? '').includes('application/json') || c.req.header('x-csrf-token') !== undefined;

/** The client's address, for the per-address login limit. */
export function clientAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // in-process requests (tests) have no socket
  }
}

/** Middleware: sets the session, or refuses; checks the CSRF token of every non-GET. */
export function requireSession(deps: { database: Database; clock: Clock }) {
  return async (c: Context<BankEnv>, next: () => Promise<void>) => {
    const session = await findSession(deps.database.db, getCookie(c, SESSION_COOKIE), deps.clock.now());
    if (!session) {
      if (c.req.method === 'GET' && !wantsJson(c)) return c.redirect('/login', 303);
      throw new DomainError('auth.required');
    }
    c.set('session', session);
    if (c.req.method !== 'GET') {
      const header = c.req.header('x-csrf-token');
      const given = header ?? String(((await c.req.parseBody()) as Record<string, unknown>).csrf ?? '');
      if (!tokensEqual(given, session.csrfToken)) throw new DomainError('csrf.invalid');
    }
    await next();
  };
}
