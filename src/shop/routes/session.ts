// Sessions and CSRF at the edge.
//
// Login sessions: a random token in the `shop_session` cookie (httpOnly, SameSite=Lax, Secure when the
// shop is served over https); the database keeps only its hash. A new token is issued at every login
// (no fixation) and deleted at logout.
//
// CSRF: a synchronizer token derived, not stored: HMAC(SHOP_SESSION_SECRET, session token) for a
// logged-in visitor, HMAC(secret, `shop_csrf` cookie) for an anonymous one (login and register forms).
// Every state-changing request must carry it, as the `_csrf` form field or the `x-csrf-token` header;
// a cross-site page can neither read the cookie nor compute the HMAC.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { getConnInfo } from '@hono/node-server/conninfo';
import { DomainError } from '../../core/errors.ts';
import { forwardedClient } from '../domain/login-limit.ts';
import { userAndCartCountForSession, userAndCartViewForSession, userForSession } from '../storage/accounts.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';

export const SESSION_COOKIE = 'shop_session';
export const CSRF_COOKIE = 'shop_csrf';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
// Server-to-server endpoints authenticate by signature, not by cookie (the gateway's webhook intake).
const CSRF_EXEMPT = [/^\/webhooks\//];
// The pages that show the cart (cart.routes, checkout.routes): their GET reads the cart with the session.
const CART_PAGES = /^\/(?:cart|checkout|checkout\/(?:delivery|address|pay)|api\/cart)$/;

function secure(deps: ShopDeps): boolean {
  return deps.settings.publicUrl.startsWith('https:');
}

function csrfFor(secret: string, binding: string): string {
  return createHmac('sha256', secret).update(`countersign:shop:csrf:${binding}`).digest('base64url');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sets the session cookie for a freshly issued token. */
export function setSessionCookie(c: ShopContext, deps: ShopDeps, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: secure(deps),
    path: '/',
    maxAge: deps.settings.sessionTtlSeconds,
  });
}

/** Removes the session cookie (logout). */
export function clearSessionCookie(c: ShopContext, deps: ShopDeps): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: secure(deps) });
}

/**
 * The client's address for the login limit: the socket's, or — only when SHOP_TRUST_PROXY says our
 * own proxies stand in front — the X-Forwarded-For entry the nearest of them wrote. Entries to its
 * left are whatever the client sent, so rotating them changes nothing.
 */
export function clientIp(c: ShopContext, deps: ShopDeps): string {
  return clientAddress(c, deps.settings.trustedProxyHops);
}

/** The client's address for any limit by address (login, refused webhook deliveries). */
export function clientAddress(c: Context, trustedProxyHops: number): string {
  const forwarded = forwardedClient(c.req.header('x-forwarded-for'), trustedProxyHops);
  if (forwarded) return forwarded;
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // app.request() in tests has no socket.
    return 'unknown';
  }
}

/** Loads the user from the session cookie and computes the request's CSRF token. */
export function sessionMiddleware(deps: ShopDeps): MiddlewareHandler<ShopEnv> {
  return async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE);
    let user: Awaited<ReturnType<typeof userForSession>>;
    if (token && SAFE_METHODS.has(c.req.method) && CART_PAGES.test(c.req.path)) {
      // A page that shows the cart: read it, and the badge, with the session.
      const found = await userAndCartViewForSession(deps.database.db, token, deps.clock.now());
      user = found?.user;
      if (found) {
        c.set('cartCount', found.cartCount);
        c.set('cartView', found.cart);
      }
    } else if (token && SAFE_METHODS.has(c.req.method)) {
      // A page view shows the cart badge: read it with the session (nothing a GET does changes it).
      const found = await userAndCartCountForSession(deps.database.db, token, deps.clock.now());
      user = found?.user;
      if (found) c.set('cartCount', found.cartCount);
    } else user = token ? await userForSession(deps.database.db, token, deps.clock.now()) : undefined;
    if (token && !user) clearSessionCookie(c, deps);
    let anon = getCookie(c, CSRF_COOKIE);
    if (!anon || anon.length < 20 || anon.length > 100) {
      anon = randomBytes(24).toString('base64url');
      setCookie(c, CSRF_COOKIE, anon, { httpOnly: true, sameSite: 'Lax', secure: secure(deps), path: '/' });
    }
    c.set('user', user);
    c.set('sessionToken', user ? token : undefined);
    c.set('csrfToken', csrfFor(deps.settings.sessionSecret, user ? `session:${token}` : `anon:${anon}`));
    await next();
  };
}

/** Refuses every state-changing request without the right CSRF token (403 `csrf.invalid`). */
export function csrfMiddleware(): MiddlewareHandler<ShopEnv> {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method) || CSRF_EXEMPT.some((re) => re.test(c.req.path))) return next();
    let given = c.req.header(CSRF_HEADER);
    if (!given) {
      const type = c.req.header('content-type') ?? '';
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        const body = await c.req.parseBody();
        const field = body[CSRF_FIELD];
        if (typeof field === 'string') given = field;
      }
    }
    if (!given || !sameToken(given, c.get('csrfToken'))) throw new DomainError('csrf.invalid');
    await next();
  };
}
