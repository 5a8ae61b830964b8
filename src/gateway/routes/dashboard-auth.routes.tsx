// Logging in to the dashboard (an e-mail and a password, or a secret API key) and signing up. Every
// login opens a new session with a new token (a session id planted before login is never promoted),
// and closes the one the browser came with.
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { countFailure, logIn, loginAllowed } from '../commands/log-in.ts';
import { signUp } from '../commands/sign-up.ts';
import { DEFAULT_LOGIN_LIMITS } from '../domain/dashboard-account.rule.ts';
import { LoginPage, SignupPage, WelcomePage } from '../pages/dashboard-auth.page.tsx';
import { closeDashboardSession, openDashboardSession } from '../storage/dashboard.ts';
import { authenticateApiKey } from '../storage/merchants.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { clientAddress, field, html, type DashboardDeps, type Router } from './dashboard-kit.ts';

export const DASHBOARD_COOKIE = 'gw_session';
const TTL_SECONDS = 8 * 3600;

/** Opens a fresh session for `merchantId` (and user), dropping the one the request carried. */
async function startSession(c: Context, deps: DashboardDeps, merchantId: string, userId: string | null) {
  const old = getCookie(c, DASHBOARD_COOKIE);
  if (old) await closeDashboardSession(deps.database.db, old);
  const { token, csrf } = await openDashboardSession(deps.database.db, merchantId, TTL_SECONDS, deps.clock, userId);
  setCookie(c, DASHBOARD_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: deps.publicUrl().startsWith('https:'),
    path: '/dashboard',
    maxAge: TTL_SECONDS,
  });
  return csrf;
}

/** GET/POST /login and /signup (no session needed). */
export function registerLoginRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  const limits = deps.loginLimits ?? DEFAULT_LOGIN_LIMITS;
  const signupOpen = deps.signup ?? true;
  const limitDeps = { database, clock, limits };

  router.get('/login', (c) => html(c, <LoginPage signupOpen={signupOpen} />));
  router.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const apiKey = field(form, 'api_key').trim();
    if (apiKey || !('email' in form)) {
      let merchant: MerchantRow;
      try {
        merchant = await authenticateApiKey(database.db, apiKey);
      } catch {
        return html(c, <LoginPage signupOpen={signupOpen} error="That key is not valid." />, 401);
      }
      await startSession(c, deps, merchant.id, null);
      return c.redirect('/dashboard', 303);
    }
    const email = field(form, 'email').slice(0, 320);
    const result = await logIn(limitDeps, { email, password: field(form, 'password'), address: clientAddress(c) });
    if (result.verdict === 'limited')
      return html(
        c,
        <LoginPage signupOpen={signupOpen} email={email} error="Too many failed attempts. Try again in 15 minutes." />,
        429,
      );
    if (result.verdict === 'invalid')
      return html(
        c,
        <LoginPage signupOpen={signupOpen} email={email} error="That e-mail and password do not match an account." />,
        401,
      );
    await startSession(c, deps, result.user.merchantId, result.user.id);
    return c.redirect('/dashboard', 303);
  });

  const closed = (c: Context) =>
    html(
      c,
      <LoginPage signupOpen={false} error="Sign-up is closed on this gateway; ask its operator for an account." />,
      404,
    );
  router.get('/signup', (c) => (signupOpen ? html(c, <SignupPage />) : closed(c)));
  router.post('/signup', async (c) => {
    if (!signupOpen) return closed(c);
    const form = await c.req.parseBody();
    const values = {
      email: field(form, 'email').slice(0, 320),
      business_name: field(form, 'business_name').slice(0, 200),
      webhook_url: field(form, 'webhook_url').slice(0, 4096),
    };
    const address = clientAddress(c);
    if (!(await loginAllowed(limitDeps, values.email, address)))
      return html(
        c,
        <SignupPage values={values} errors={{ form: 'Too many attempts. Try again in 15 minutes.' }} />,
        429,
      );
    const result = await signUp(
      {
        database,
        clock,
        allowHttpWebhooks: deps.allowHttpWebhooks ?? false,
        webhookNetworks: deps.webhookNetworks ?? 'loopback',
      },
      {
        email: values.email,
        password: field(form, 'password'),
        businessName: values.business_name,
        webhookUrl: values.webhook_url,
      },
    );
    if (result.verdict === 'invalid') return html(c, <SignupPage values={values} errors={result.problems} />, 422);
    if (result.verdict === 'email_taken') {
      // Counted like a failed login, so that sign-up is no faster a way to learn who has an account.
      await countFailure(limitDeps, values.email, address);
      return html(
        c,
        <SignupPage
          values={values}
          errors={{ email: 'This e-mail cannot be used for a new account. If it is yours, log in instead.' }}
        />,
        409,
      );
    }
    const csrf = await startSession(c, deps, result.merchant.id, result.user.id);
    const view = {
      merchant: result.merchant,
      csrf,
      now: clock.now(),
      user: { email: result.user.email, role: result.user.role },
    };
    return html(c, <WelcomePage view={view} apiKey={result.apiKey} webhookSecret={result.webhookSecret} />, 201);
  });
}
