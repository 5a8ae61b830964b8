// The merchant dashboard: log in with an e-mail and a password (or a secret API key); cookie
// `gw_session` (random token, only its sha256 stored; HttpOnly, SameSite=Strict); every form carries
// the session's CSRF token and every POST must come from our own origin. No script; a strict CSP.
// Each area is its own router file; every query they make is bound to the session's merchant, so
// another merchant's ids are simply not found (404).
import type { Context } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import { timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../core/errors.ts';
import { createRouter } from '../../platform/http/app.ts';
import { contentSecurityPolicy, securityHeaders } from '../../platform/http/security-headers.ts';
import { DASHBOARD_STYLES } from '../pages/dashboard-layout.tsx';
import { closeDashboardSession, readDashboardSession } from '../storage/dashboard.ts';
import { DASHBOARD_COOKIE, registerLoginRoutes } from './dashboard-auth.routes.tsx';
import { registerDeveloperRoutes } from './dashboard-developers.routes.tsx';
import { registerJourneyPage } from './dashboard-journey.routes.tsx';
import type { DashboardDeps, Env, Router } from './dashboard-kit.ts';
import { registerDisputeRoutes } from './dashboard-disputes.routes.tsx';
import { registerPaymentRoutes } from './dashboard-payments.routes.tsx';
import { registerPayoutRoutes } from './dashboard-payouts.routes.tsx';
import { registerTeamRoutes } from './dashboard-team.routes.tsx';

export { DASHBOARD_COOKIE };
export type { DashboardDeps };

// Forms and a stylesheet only: no script, nothing fetched.
const CSP = contentSecurityPolicy({ 'script-src': ["'none'"], 'connect-src': ["'none'"], 'img-src': ["'none'"] });

/** The /dashboard router. */
export function dashboardRoutes(deps: DashboardDeps) {
  const router = createRouter<Env>();
  registerFrame(router, deps);
  registerLoginRoutes(router, deps);
  // Everything below needs a login.
  router.use('*', requireSession(deps));
  registerPaymentRoutes(router, deps);
  registerDisputeRoutes(router, deps);
  registerPayoutRoutes(router, deps);
  if (deps.gateway) registerJourneyPage(router, deps.gateway);
  registerDeveloperRoutes(router, deps);
  registerTeamRoutes(router, deps);
  router.post('/logout', async (c) => {
    const token = getCookie(c, DASHBOARD_COOKIE);
    if (token) await closeDashboardSession(deps.database.db, token);
    deleteCookie(c, DASHBOARD_COOKIE, { path: '/dashboard' });
    return c.redirect('/dashboard/login', 303);
  });
  return router;
}

/** The headers and origin check on every page, and the stylesheet. */
function registerFrame(router: Router, deps: DashboardDeps): void {
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
    c.set('user', session.user);
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody();
      const given = Buffer.from(typeof form.csrf === 'string' ? form.csrf : '');
      const expected = Buffer.from(session.csrf);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new DomainError('csrf.invalid');
    }
    await next();
  };
}
