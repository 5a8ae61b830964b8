// The bank app's pages and actions: login/logout (scrypt, httpOnly SameSite=Strict cookie, CSRF,
// failed-login limit), the app page, its activity fragment, and answering approval requests.
import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { readRoom } from '../../platform/realtime/index.ts';
import { dummyPasswordHash, verifyPassword } from '../auth/passwords.ts';
import {
  createSession,
  deleteSession,
  findSession,
  reserveLoginAttempt,
  SESSION_COOKIE,
  SESSION_HOURS,
  takeBackLoginAttempt,
  tokensEqual,
  type BankSession,
} from '../auth/sessions.ts';
import { AppPage, Activity, type ActivityData } from '../pages/app.page.tsx';
import { bankContentSecurityPolicy } from '../pages/layout.tsx';
import { securityHeaders } from '../../platform/http/security-headers.ts';
import { LoginPage } from '../pages/login.page.tsx';
import { answerApproval, type ApprovalAnswer } from '../storage/answer-approval.ts';
import { cardholderAccounts, cardholderCards, openApprovals, openHolds, recentMovements } from '../storage/app-queries.ts';
import { cardholders } from '../storage/bank.schema.ts';
import { cardholderRoom } from '../storage/bank-settings.ts';
import { eq } from 'drizzle-orm';

const LOGIN_CSRF_COOKIE = 'bank_login_csrf';

export interface AppRoutesDeps {
  readonly database: Database;
  readonly clock: Clock;
  /** Secure cookies when the bank is served over https. */
  readonly secureCookies: boolean;
  /** Called after a commit that enqueued jobs (the callback to the gateway), so it goes out at once. */
  readonly wake: () => void;
}

type BankEnv = AppEnv<{ session: BankSession; nonce: string }>;

function clientAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // in-process requests (tests) have no socket
  }
}

/** The bank app router, mounted at the root. */
export function appRoutes(deps: AppRoutesDeps) {
  const { database, clock } = deps;
  const router = createRouter<BankEnv>();
  const cookieBase = { httpOnly: true, sameSite: 'Strict', secure: deps.secureCookies, path: '/' } as const;

  // Every page gets a fresh nonce for its inline style and script, and the security headers.
  // Only on the app's own paths, so that /healthz, /readyz and /metrics keep their route labels.
  const headers = securityHeaders<BankEnv>({ csp: (c) => bankContentSecurityPolicy(c.get('nonce')) });
  const securePage = async (c: Context<BankEnv>, next: () => Promise<void>) => {
    c.set('nonce', randomBytes(16).toString('base64'));
    await headers(c, next);
  };
  for (const path of ['/login', '/logout', '/app/*']) router.use(path, securePage);

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
    const email = String(form.email ?? '').trim().toLowerCase().slice(0, 200);
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
    const [cardholder] = await database.db.select().from(cardholders).where(eq(cardholders.email, email));
    // Same work for unknown e-mails, so that timing does not reveal who banks here.
    const ok = await verifyPassword(password, cardholder?.passwordHash ?? (await dummyPasswordHash()));
    if (!cardholder || !ok) {
      return loginPage(c, 401, 'The e-mail or password is not right.', email);
    }
    await takeBackLoginAttempt(database.db, reserved);
    const token = await createSession(database.db, cardholder.id, now);
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/' });
    setCookie(c, SESSION_COOKIE, token, { ...cookieBase, maxAge: SESSION_HOURS * 3600 });
    return c.redirect('/app', 303);
  });

  // Everything below needs a session: pages redirect to /login, JSON callers get 401.
  const wantsJson = (c: Context) => (c.req.header('accept') ?? '').includes('application/json') || c.req.header('x-csrf-token') !== undefined;
  // In Hono '/app/*' matches '/app' too.
  router.use('/app/*', requireSession);
  router.use('/logout', requireSession);
  async function requireSession(c: Context<BankEnv>, next: () => Promise<void>) {
    const session = await findSession(database.db, getCookie(c, SESSION_COOKIE), clock.now());
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
  }

  router.post('/logout', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await deleteSession(database.db, token);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  async function activity(cardholderId: string): Promise<ActivityData> {
    const [accounts, holds, movements] = await Promise.all([
      cardholderAccounts(database.db, cardholderId),
      openHolds(database.db, cardholderId),
      recentMovements(database.db, cardholderId),
    ]);
    return { accounts, holds, movements };
  }

  router.get('/app', async (c) => {
    const session = c.get('session');
    const now = clock.now();
    // Cursor first, state second: whatever commits in between is replayed when the page joins.
    const { cursor } = await readRoom(database.db, cardholderRoom(session.cardholderId), undefined);
    const approvals = await openApprovals(database.db, session.cardholderId, now);
    c.header('cache-control', 'no-store');
    return c.html(
      <AppPage
        name={session.name}
        cardholderId={session.cardholderId}
        csrf={session.csrfToken}
        cursor={cursor}
        now={now}
        approvals={approvals}
        activity={await activity(session.cardholderId)}
        cards={await cardholderCards(database.db, session.cardholderId)}
        nonce={c.get('nonce')}
      />,
    );
  });

  router.get('/app/activity', async (c) => {
    c.header('cache-control', 'no-store');
    return c.html(<Activity data={await activity(c.get('session').cardholderId)} />);
  });

  router.post('/app/approvals/:id/:answer{approve|decline}', async (c) => {
    const session = c.get('session');
    const approvalId = c.req.param('id');
    if (!/^apr_[0-9A-Z]{26}$/.test(approvalId)) throw new DomainError('not_found');
    const answer = c.req.param('answer') as ApprovalAnswer;
    const json = wantsJson(c);
    try {
      const result = await database.transaction((tx) => answerApproval(tx, { approvalId, cardholderId: session.cardholderId, answer }, clock));
      deps.wake();
      return json ? c.json({ id: approvalId, status: result.status }) : c.redirect('/app', 303);
    } catch (err) {
      if (!json && err instanceof DomainError && err.status === 409) return c.redirect('/app', 303);
      throw err;
    }
  });

  return router;
}
