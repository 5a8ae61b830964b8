// Register, log in, log out. Login returns to the page asked for (`next`, paths on this origin only,
// judged after normalisation), issues a new session token every time (no fixation), and refuses
// attempts for an account or from an address that has failed too often within the window (reserved
// in the database before the password is checked, so that the limits hold under any concurrency).
import type { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { isDomainError } from '../../core/errors.ts';
import { safeNextPath } from '../domain/access.ts';
import { limitKeys } from '../domain/login-limit.ts';
import { LoginPage, RegisterPage } from '../pages/account.page.tsx';
import * as accounts from '../storage/accounts.ts';
import { reserveLoginAttempt, takeBack } from '../storage/login-attempts.ts';
import type { ShopDeps, ShopEnv } from './context.ts';
import { pageCtx, readForm } from './helpers.tsx';
import { clearSessionCookie, clientIp, SESSION_COOKIE, setSessionCookie } from './session.ts';

type Errors = Partial<Record<string, string>>;

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;

/** Mounts the account routes. */
export function accountRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock, settings } = deps;

  async function startSession(c: Parameters<typeof setSessionCookie>[0], userId: string): Promise<void> {
    // Rotate: whatever session the browser had is ended, a new token is issued.
    const old = getCookie(c, SESSION_COOKIE);
    if (old) await accounts.deleteLoginSession(database.db, old);
    const token = await accounts.createLoginSession(database.db, userId, clock.now(), settings.sessionTtlSeconds);
    setSessionCookie(c, deps, token);
  }

  app.get('/login', async (c) =>
    c.html(<LoginPage ctx={await pageCtx(c, deps)} next={safeNextPath(c.req.query('next'))} />),
  );

  app.post('/login', async (c) => {
    const next = safeNextPath(c.req.query('next'));
    const form = await readForm(c);
    const email = (form.email ?? '').trim().slice(0, 320);
    const password = (form.password ?? '').slice(0, 1000);
    const errors: Errors = {};
    if (!email) errors.email = 'Enter your email.';
    if (!password) errors.password = 'Enter your password.';
    if (errors.email || errors.password)
      return c.html(<LoginPage ctx={await pageCtx(c, deps)} next={next} email={email} errors={errors} />, 422);
    const limits = settings.login;
    const reservation = await reserveLoginAttempt(
      database,
      limitKeys(email, clientIp(c, deps), limits),
      clock.now(),
      limits.windowSeconds,
    );
    if (!reservation.ok) {
      const minutes = Math.ceil(limits.windowSeconds / 60);
      const who = reservation.blocked === 'account' ? 'for this email' : 'from your network';
      return c.html(
        <LoginPage
          ctx={await pageCtx(c, deps)}
          next={next}
          email={email}
          notice={`Too many failed attempts ${who}. Try again in ${minutes} minutes.`}
        />,
        429,
      );
    }
    // The attempt is already counted as a failure; only a right password takes it back.
    const user = await accounts.checkCredentials(database.db, email, password);
    if (!user) {
      return c.html(
        <LoginPage
          ctx={await pageCtx(c, deps)}
          next={next}
          email={email}
          errors={{ password: 'The email or password is not right.' }}
        />,
        401,
      );
    }
    await takeBack(database.db, reservation);
    await startSession(c, user.id);
    return c.redirect(next, 303);
  });

  app.get('/register', async (c) =>
    c.html(<RegisterPage ctx={await pageCtx(c, deps)} next={safeNextPath(c.req.query('next'))} />),
  );

  app.post('/register', async (c) => {
    const next = safeNextPath(c.req.query('next'));
    const form = await readForm(c);
    const values = { name: (form.name ?? '').trim().slice(0, 200), email: (form.email ?? '').trim().slice(0, 320) };
    const password = form.password ?? '';
    const errors: Errors = {};
    if (!values.name) errors.name = 'Enter your name.';
    if (!EMAIL.test(values.email)) errors.email = 'Enter a valid email address.';
    if (password.length < 10) errors.password = 'Use at least 10 characters.';
    else if (password.length > 200) errors.password = 'Use at most 200 characters.';
    if (Object.keys(errors).length === 0) {
      try {
        // The role is never read from the form: registration makes customers only.
        const user = await accounts.createUser(database.db, { ...values, password, role: 'customer' }, clock.now());
        await startSession(c, user.id);
        return c.redirect(next, 303);
      } catch (err) {
        if (!isDomainError(err, 'auth.email_taken')) throw err;
        errors.email = 'An account with this email already exists. Log in instead?';
      }
    }
    return c.html(<RegisterPage ctx={await pageCtx(c, deps)} next={next} values={values} errors={errors} />, 422);
  });

  app.post('/logout', async (c) => {
    const token = c.get('sessionToken');
    if (token) await accounts.deleteLoginSession(database.db, token);
    clearSessionCookie(c, deps);
    return c.redirect('/', 303);
  });
}
