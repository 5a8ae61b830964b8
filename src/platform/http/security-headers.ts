// The security headers every party's pages carry: one strict Content-Security-Policy shape (nothing
// but this origin's own files, never framed, forms only to this origin) that each party widens only
// where a page legitimately needs it, plus the headers old browsers and content sniffing need.
import type { Context, Env, MiddlewareHandler } from 'hono';
import { setAnswerHeader } from './answer-header.ts';

/** The CSP directives a party may widen; every source list replaces the default one. */
export type CspDirectives = Partial<
  Record<'script-src' | 'style-src' | 'img-src' | 'connect-src' | 'form-action' | 'base-uri', readonly string[]>
>;

const STRICT: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'none'"],
  // Scripts and styles are files served by the party itself: no inline code, no eval.
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'base-uri': ["'none'"],
  // A payment or approval button must never be clickjackable inside another site's frame.
  'frame-ancestors': ["'none'"],
};

/** The strict policy with the given directives replaced. `frame-ancestors 'none'` cannot be widened. */
export function contentSecurityPolicy(widen: CspDirectives = {}): string {
  const merged = { ...STRICT, ...widen, 'frame-ancestors': STRICT['frame-ancestors']! };
  return Object.entries(merged)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** The headers of a page: its CSP, no framing (for browsers without frame-ancestors), no sniffing. */
export function pageSecurityHeaders(
  csp: string,
  referrerPolicy: 'same-origin' | 'no-referrer' = 'same-origin',
): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': referrerPolicy,
  };
}

/**
 * Sets the page headers on every response the routes below it answer, errors included (register it
 * before any middleware that may throw, so a refused request's error page carries them too). The
 * policy may be computed per request (a nonce).
 */
export function securityHeaders<E extends Env>(opts: {
  csp: string | ((c: Context<E>) => string);
  referrerPolicy?: 'same-origin' | 'no-referrer';
}): MiddlewareHandler<E> {
  return async (c, next) => {
    await next();
    const csp = typeof opts.csp === 'string' ? opts.csp : opts.csp(c);
    for (const [name, value] of Object.entries(pageSecurityHeaders(csp, opts.referrerPolicy)))
      setAnswerHeader(c, name, value);
  };
}
