// Small helpers shared by the shop's routes: the page context, the login gate, the access gate and
// form reading.
import { toHttpError } from '../../core/errors.ts';
import { safeNextPath } from '../domain/access.ts';
import { AccessDenied, ErrorPage, type PageCtx } from '../pages/layout.tsx';
import { cartCount } from '../storage/cart.ts';
import type { User } from '../storage/accounts.ts';
import type { ShopContext, ShopDeps } from './context.ts';

/** The frame's view of this request. */
export async function pageCtx(c: ShopContext, deps: ShopDeps): Promise<PageCtx> {
  const user = c.get('user');
  const url = new URL(c.req.url);
  return {
    user,
    csrf: c.get('csrfToken'),
    cartCount: user ? (c.get('cartCount') ?? (await cartCount(deps.database.db, user.id))) : 0,
    path: `${url.pathname}${url.search}`,
  };
}

/** Where an anonymous visitor goes: the login page, which brings them back here afterwards. */
export function loginRedirect(c: ShopContext): Response {
  const url = new URL(c.req.url);
  let next = `${url.pathname}${url.search}`;
  if (c.req.method !== 'GET') {
    // A form posted while logged out: come back to the page that showed the form, not to the POST.
    next = '/';
    const referer = c.req.header('referer');
    if (referer) {
      try {
        const from = new URL(referer);
        if (from.origin === url.origin) next = safeNextPath(`${from.pathname}${from.search}`);
      } catch {
        // An unparsable referer: home.
      }
    }
    return c.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
  }
  return c.redirect(`/login?next=${encodeURIComponent(next)}`, 302);
}

/** Whether the request is for the JSON API (errors answer as JSON there). */
export function isApi(c: ShopContext): boolean {
  return c.req.path.startsWith('/api/');
}

/** The logged-in user, or the response to send instead (login redirect, or 401 JSON for the API). */
export function requireUser(c: ShopContext): User | Response {
  const user = c.get('user');
  if (user) return user;
  if (isApi(c)) return c.json({ error: { code: 'auth.required', message: 'Authentication is required.' } }, 401);
  return loginRedirect(c);
}

/** "Access denied" with status 404 — identical for another user's resource and a missing one. */
export async function denied(c: ShopContext, deps: ShopDeps): Promise<Response> {
  if (isApi(c)) return c.json({ error: { code: 'access.denied', message: 'Not found.' } }, 404);
  return c.html(<AccessDenied ctx={await pageCtx(c, deps)} />, 404);
}

/** Renders a thrown error as a page (HTML routes) with the status from the one error table. */
export async function errorPage(c: ShopContext, deps: ShopDeps, err: unknown): Promise<Response> {
  const { status, body } = toHttpError(err);
  if (body.error.code === 'access.denied' || body.error.code === 'not_found') return denied(c, deps);
  const title =
    status === 403
      ? 'Form expired'
      : status === 429
        ? 'Too many attempts'
        : status >= 500
          ? 'Something went wrong'
          : 'That did not work';
  return c.html(<ErrorPage ctx={await pageCtx(c, deps)} title={title} message={body.error.message} />, status as 400);
}

/** Reads a urlencoded or multipart form as strings only (files and repeats are ignored). */
export async function readForm(c: ShopContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  return out;
}
