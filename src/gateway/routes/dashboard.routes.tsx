// The merchant dashboard: log in with a secret API key; cookie `gw_session` (random token, only its
// sha256 stored; HttpOnly, SameSite=Strict); every form carries the session's CSRF token and every
// POST must come from our own origin. No script; a strict CSP.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { contentSecurityPolicy, securityHeaders } from '../../platform/http/security-headers.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { resendDelivery } from '../commands/resend-delivery.ts';
import { rotateSigningSecret } from '../commands/rotate-signing-secret.ts';
import { DASHBOARD_STYLES, LoginPage, PaymentPage, PaymentsPage, SettingsPage } from '../pages/dashboard.page.tsx';
import {
  closeDashboardSession,
  credentials,
  listPayments,
  openDashboardSession,
  paymentDetail,
  readDashboardSession,
} from '../storage/dashboard.ts';
import { addApiKey, authenticateApiKey, findMerchant, newApiKey, setWebhookEnabled } from '../storage/merchants.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { registerJourneyPage } from './dashboard-journey.routes.tsx';

export const DASHBOARD_COOKIE = 'gw_session';
const TTL_SECONDS = 8 * 3600;
// Forms and a stylesheet only: no script, nothing fetched.
const CSP = contentSecurityPolicy({ 'script-src': ["'none'"], 'connect-src': ["'none'"], 'img-src': ["'none'"] });

type Env = AppEnv<{ merchant: MerchantRow; csrf: string }>;

type Router = ReturnType<typeof createRouter<Env>>;
type DashboardDeps = {
  database: Database;
  clock: Clock;
  publicUrl: () => string;
  wake?: () => void;
  /** For the journey page, which also reads the bank's records. */
  gateway?: GatewayDeps;
};

const html = (c: Context, node: unknown, status = 200) => c.html('<!doctype html>' + String(node), status as 200);

/** The /dashboard router. */
export function dashboardRoutes(deps: DashboardDeps) {
  const router = createRouter<Env>();
  registerLoginRoutes(router, deps);
  // Everything below needs a login.
  router.use('*', requireSession(deps));
  registerPaymentRoutes(router, deps);
  if (deps.gateway) registerJourneyPage(router, deps.gateway);
  registerSettingsRoutes(router, deps);
  router.post('/logout', async (c) => {
    const token = getCookie(c, DASHBOARD_COOKIE);
    if (token) await closeDashboardSession(deps.database.db, token);
    deleteCookie(c, DASHBOARD_COOKIE, { path: '/dashboard' });
    return c.redirect('/dashboard/login', 303);
  });
  return router;
}

/** The headers and origin check on every page, the stylesheet, and the login form (no session needed). */
function registerLoginRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  const secure = () => deps.publicUrl().startsWith('https:');

  router.use('*', securityHeaders({ csp: CSP }));
  router.use('*', async (c, next) => {
    // Cross-site POSTs are refused outright (the cookie is SameSite=Strict too).
    if (c.req.method === 'POST') {
      const origin = c.req.header('origin');
      if (origin !== undefined && origin !== new URL(c.req.url).origin && origin !== new URL(deps.publicUrl()).origin)
        throw new DomainError('csrf.invalid');
    }
    await next();
    c.header('cache-control', 'no-store');
  });
  router.get('/assets/dashboard.css', (c) =>
    c.body(DASHBOARD_STYLES, 200, { 'content-type': 'text/css; charset=utf-8' }),
  );
  router.get('/login', (c) => html(c, <LoginPage />));
  router.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const key = typeof form.api_key === 'string' ? form.api_key.trim() : '';
    let merchant: MerchantRow;
    try {
      merchant = await authenticateApiKey(database.db, key);
    } catch {
      return html(c, <LoginPage error="That key is not valid." />, 401);
    }
    const { token } = await openDashboardSession(database.db, merchant.id, TTL_SECONDS, clock);
    setCookie(c, DASHBOARD_COOKIE, token, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: secure(),
      path: '/dashboard',
      maxAge: TTL_SECONDS,
    });
    return c.redirect('/dashboard', 303);
  });
}

/** The session check: a GET without one goes to the login; a POST needs the session's CSRF token. */
function requireSession(deps: DashboardDeps) {
  const { database, clock } = deps;
  return async (c: Context<Env>, next: () => Promise<void>) => {
    const token = getCookie(c, DASHBOARD_COOKIE);
    const session = token ? await readDashboardSession(database.db, token, clock) : null;
    if (!session) {
      if (c.req.method === 'GET') return c.redirect('/dashboard/login', 303);
      throw new DomainError('auth.required');
    }
    c.set('merchant', session.merchant);
    c.set('csrf', session.csrf);
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody();
      const given = Buffer.from(typeof form.csrf === 'string' ? form.csrf : '');
      const expected = Buffer.from(session.csrf);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new DomainError('csrf.invalid');
    }
    await next();
  };
}

/** The payments list, a payment's page, and resending a webhook delivery. */
function registerPaymentRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  router.get('/', async (c) =>
    html(
      c,
      <PaymentsPage
        merchant={c.get('merchant')}
        csrf={c.get('csrf')}
        payments={await listPayments(database.db, c.get('merchant').id)}
      />,
    ),
  );
  router.get('/payments/:id', async (c) => {
    const detail = await paymentDetail(database.db, c.get('merchant').id, c.req.param('id'));
    if (!detail) throw new DomainError('not_found', { resource: 'payment_session' });
    return html(c, <PaymentPage merchant={c.get('merchant')} csrf={c.get('csrf')} detail={detail} />);
  });
  router.post('/deliveries/:id/resend', async (c) => {
    if (!(await resendDelivery({ database, clock }, c.req.param('id'), c.get('merchant').id)))
      throw new DomainError('not_found', { resource: 'webhook_delivery' });
    deps.wake?.();
    const back = String((await c.req.parseBody()).back ?? '');
    return c.redirect(/^ps_[0-9A-Z]{26}$/.test(back) ? `/dashboard/payments/${back}` : '/dashboard', 303);
  });
}

/** The settings page: API keys, the webhook signing secret, enabling webhooks. */
function registerSettingsRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  const settings = async (c: Context<Env>, shownOnce?: { label: string; value: string }) => {
    const merchant = (await findMerchant(database.db, c.get('merchant').id))!;
    return html(
      c,
      <SettingsPage
        merchant={merchant}
        csrf={c.get('csrf')}
        creds={await credentials(database.db, merchant.id)}
        {...(shownOnce ? { shownOnce } : {})}
      />,
    );
  };
  router.get('/settings', (c) => settings(c));
  router.post('/settings/keys', async (c) => {
    const key = newApiKey();
    await addApiKey(database.db, c.get('merchant').id, key, clock);
    return settings(c, { label: 'New API key', value: key });
  });
  router.post('/settings/secrets/rotate', async (c) => {
    // The same rule as the API: the previous secret keeps signing for the default overlap (24 h).
    const { secret } = await rotateSigningSecret({ database, clock }, c.get('merchant').id);
    return settings(c, { label: 'New signing secret', value: secret });
  });
  router.post('/settings/webhooks/enable', async (c) => {
    await setWebhookEnabled(database.db, c.get('merchant').id, true);
    return c.redirect('/dashboard/settings', 303);
  });
}
