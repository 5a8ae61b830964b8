// The shop's routes as one router: session and CSRF middleware first, then the customer's pages, the
// owner-only pages and APIs, the staff console; errors become pages for browsers and JSON for /api.
import { Hono, type MiddlewareHandler } from 'hono';
import { errorResponse } from '../../platform/http/app.ts';
import { SHOP_CSS } from '../pages/style.ts';
import { accountRoutes } from './account.routes.tsx';
import type { ShopDeps, ShopEnv } from './context.ts';
import { errorPage, isApi } from './helpers.tsx';
import { orderRoutes } from './orders.routes.tsx';
import { csrfMiddleware, sessionMiddleware } from './session.ts';
import { shopRoutes } from './shop.routes.tsx';
import { staffRoutes } from './staff.routes.tsx';
import { staffOrderPaymentRoutes } from './staff-payments.routes.tsx';
import { staffPaymentRoutes } from '../payments/staff-payments.routes.tsx';

/** Every path the shop serves ('/x/*' also matches '/x'); the middleware runs once per request. */
const SHOP_PATHS = ['/', '/login', '/register', '/logout', '/products/*', '/cart/*', '/checkout/*', '/orders/*', '/invoices/*', '/staff/*', '/api/*', '/webhooks/*'] as const;

/** Builds the shop's router; main.ts mounts it on the service app. */
export function createShopApp(deps: ShopDeps): Hono<ShopEnv> {
  const app = new Hono<ShopEnv>();
  app.get('/assets/shop.css', (c) => {
    c.header('content-type', 'text/css; charset=utf-8');
    c.header('cache-control', 'public, max-age=300');
    return c.body(SHOP_CSS);
  });
  // Only the shop's own paths: the platform's /healthz, /readyz, /metrics and /openapi.json stay
  // untouched (and keep their route label in the metrics).
  const session = sessionMiddleware(deps);
  const csrf = csrfMiddleware();
  const headers: MiddlewareHandler<ShopEnv> = async (c, next) => {
    await next();
    // Pages carry personal data: never cached by shared caches, never framed by another site.
    if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
    c.header('x-frame-options', 'DENY');
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
  };
  for (const path of SHOP_PATHS) app.use(path, session, csrf, headers);
  app.onError(async (err, c) => {
    // Logs server-side failures once and decides the status through the one error table.
    const { status, body } = errorResponse(err, deps.log);
    if (isApi(c) || (c.req.header('content-type') ?? '').includes('application/json')) return c.json(body, status as 400);
    return errorPage(c, deps, err);
  });
  accountRoutes(app, deps);
  shopRoutes(app, deps);
  orderRoutes(app, deps);
  staffRoutes(app, deps);
  staffOrderPaymentRoutes(app, deps);
  staffPaymentRoutes(app, deps);
  return app;
}
