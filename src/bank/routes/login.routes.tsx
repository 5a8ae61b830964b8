// The bank app's login and logout: scrypt, an httpOnly SameSite=Strict cookie, a CSRF token on the
// login form, and the failed-login limit per e-mail and per client address.
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { createRouter } from '../../platform/http/app.ts';
import { verifyAgainstDummy, verifyPassword } from '../../platform/passwords.ts';
import {
  createSession,
  deleteSession,
  findSession,
  reserveLoginAttempt,
  SESSION_COOKIE,
  SESSION_HOURS,
  takeBackLoginAttempt,
  tokensEqual,
} from '../auth/sessions.ts';
import { LoginPage } from '../pages/login.page.tsx';
import { findCardholderByEmail } from '../storage/cardholders.ts';
import { clientAddress, type BankEnv } from './bank-session.ts';

const LOGIN_CSRF_COOKIE = 'bank_login_csrf';

export interface LoginRoutesDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly secureCookies: boolean;
}

type BankRouter = ReturnType<typeof createRouter<BankEnv>>;

function cookieOptions(deps: LoginRoutesDeps) {
  return { httpOnly: true, sameSite: 'Strict', secure: deps.secureCookies, path: '/' } as const;
}

/** GET and POST /login. */
export function addLoginRoutes(router: BankRouter, deps: LoginRoutesDeps): void {
  const { database, clock } = deps;
  const cookieBase = cookieOptions(deps);

  const loginPage = (c: Context<BankEnv>, status: 200 | 401 | 403 | 429, error?: string, email?: string) => {
    const csrf = randomBytes(24).toString('base64url');
    setCookie(c, LOGIN_CSRF_COOKIE, csrf, { ...cookieBase, maxAge: 3600 });
    return c.html(<LoginPage csrf={csrf} nonce={c.get('nonce')} error={error} email={email} />, status);
  };

  router.get('/login', async (c) => {
    const session = await findSession(database.db, getCookie(c, SESSION_COOKIE), clock.now());
    if (session) return c.redirect('/app', 303);
    return loginPage(c, 200);
  });

  router.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const email = String(form.email ?? '')
      .trim()
      .toLowerCase()
      .slice(0, 200);
    const password = String(form.password ?? '');
    const cookieCsrf = getCookie(c, LOGIN_CSRF_COOKIE) ?? '';
    if (cookieCsrf === '' || !tokensEqual(cookieCsrf, String(form.csrf ?? ''))) {
      return loginPage(c, 403, 'The form has expired; please try again.', email);
    }
    const now = clock.now();
    const address = clientAddress(c);
    const keys = [`email:${email}`, ...(address ? [`ip:${address}`] : [])];
    // Counted as a failure before the password is looked at; a right password takes it back.
    const reserved = await reserveLoginAttempt(database, keys, now);
    if (!reserved) {
      return loginPage(c, 429, 'Too many failed attempts; try again in 15 minutes.', email);
    }
    const cardholder = await findCardholderByEmail(database.db, email);
    // Same work for unknown e-mails, so that timing does not reveal who banks here.
    const ok = cardholder
      ? await verifyPassword(password, cardholder.passwordHash)
      : await verifyAgainstDummy(password);
    if (!cardholder || !ok) {
      return loginPage(c, 401, 'The e-mail or password is not right.', email);
    }
    await takeBackLoginAttempt(database.db, reserved);
    const token = await createSession(database.db, cardholder.id, now);
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/' });
    setCookie(c, SESSION_COOKIE, token, { ...cookieBase, maxAge: SESSION_HOURS * 3600 });
    return c.redirect('/app', 303);
  });
}

/** POST /logout (behind the session guard). */
export function addLogoutRoute(router: BankRouter, deps: LoginRoutesDeps): void {
  router.post('/logout', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await deleteSession(deps.database.db, token);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
}
