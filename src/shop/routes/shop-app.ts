// The shop's routes as one router: security headers, session and CSRF middleware first, then the
// customer's pages, the owner-only pages and APIs, the staff console; errors become pages for
// browsers and JSON for /api.
import { Hono, type MiddlewareHandler } from 'hono';
import { errorResponse } from '../../platform/http/app.ts';
import { setAnswerHeader } from '../../platform/http/answer-header.ts';
import { contentSecurityPolicy, securityHeaders } from '../../platform/http/security-headers.ts';
import { INVOICE_JS } from '../pages/invoice-script.ts';
import { SHOP_CSS } from '../pages/style.ts';
import { accountRoutes } from './account.routes.tsx';
import type { ShopContext, ShopDeps, ShopEnv, ShopSettings } from './context.ts';
import { errorPage, isApi } from './helpers.tsx';
import { cartRoutes } from './cart.routes.tsx';
import { catalogRoutes } from './catalog.routes.tsx';
import { checkoutRoutes } from './checkout.routes.tsx';
import { invoiceRoutes } from './invoice.routes.tsx';
import { orderRoutes } from './order.routes.tsx';
import { staffDisputeRoutes } from './staff-disputes.routes.tsx';
import { csrfMiddleware, sessionMiddleware } from './session.ts';
import { staffRoutes } from './staff.routes.tsx';
import { staffPaymentRoutes } from './staff-payments.routes.tsx';
import { staffJourneyRoutes } from './staff-journey.routes.tsx';
import { receiptPdfRoutes } from '../mail/receipt.routes.ts';

/** Every path the shop serves ('/x/*' also matches '/x'); the middleware runs once per request. */
const SHOP_PATHS = [
  '/',
  '/login',
  '/register',
  '/logout',
  '/products/*',
  '/cart/*',
  '/checkout/*',
  '/orders/*',
  '/invoices/*',
  '/staff/*',
  '/api/*',
  '/webhooks/*',
] as const;

/**
 * The shop's Content-Security-Policy: only its own script and stylesheet files, requests and the live
 * invoice socket to its own origin, and forms to its own origin plus the gateway's hosted payment
 * page — "Pay now" posts here and is redirected there, and browsers check form-action on that redirect.
 */
export function shopContentSecurityPolicy(settings: Pick<ShopSettings, 'publicUrl' | 'gatewayPageOrigin'>): string {
  const self = new URL(settings.publicUrl);
  // 'self' covers ws(s) to this host in CSP Level 3; the explicit origin is for browsers before it.
  const socket = `${self.protocol === 'https:' ? 'wss:' : 'ws:'}//${self.host}`;
  return contentSecurityPolicy({
    'connect-src': ["'self'", socket],
    'form-action': ["'self'", ...(settings.gatewayPageOrigin ? [settings.gatewayPageOrigin] : [])],
  });
}

/** A file the pages load: cacheable for a few minutes (its text only changes with a deployment). */
function asset(type: string, body: string) {
  return (c: ShopContext) => {
    c.header('content-type', `${type}; charset=utf-8`);
    c.header('cache-control', 'public, max-age=300');
    return c.body(body);
  };
}

/** Builds the shop's router; main.ts mounts it on the service app. */
export function createShopApp(deps: ShopDeps): Hono<ShopEnv> {
  const app = new Hono<ShopEnv>();
  // First, so that every answer below carries them, a refused CSRF token's error page too.
  const secure = securityHeaders<ShopEnv>({ csp: shopContentSecurityPolicy(deps.settings) });
  app.use('/assets/*', secure);
  app.get('/assets/shop.css', asset('text/css', SHOP_CSS));
  app.get('/assets/invoice.js', asset('text/javascript', INVOICE_JS));
  // Only the shop's own paths: the platform's /healthz, /readyz, /metrics and /openapi.json stay
  // untouched (and keep their route label in the metrics).
  const session = sessionMiddleware(deps);
  const csrf = csrfMiddleware();
  const noStore: MiddlewareHandler<ShopEnv> = async (c, next) => {
    await next();
    // Pages carry personal data: never cached by shared caches.
    if (!c.res.headers.has('cache-control')) setAnswerHeader(c, 'cache-control', 'no-store');
  };
  for (const path of SHOP_PATHS) app.use(path, secure, noStore, session, csrf);
  app.onError(async (err, c) => {
    // Logs server-side failures once and decides the status through the one error table.
    const { status, body } = errorResponse(err, deps.log);
    if (isApi(c) || (c.req.header('content-type') ?? '').includes('application/json'))
      return c.json(body, status as 400);
    return errorPage(c, deps, err);
  });
  accountRoutes(app, deps);
  catalogRoutes(app, deps);
  cartRoutes(app, deps);
  checkoutRoutes(app, deps);
  orderRoutes(app, deps);
  invoiceRoutes(app, deps);
  receiptPdfRoutes(app, deps);
  staffRoutes(app, deps);
  staffPaymentRoutes(app, deps);
  staffJourneyRoutes(app, deps);
  staffDisputeRoutes(app, deps);
  return app;
}
