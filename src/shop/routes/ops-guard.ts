/**
 * The shop's operator API, `/ops/*`: machine-to-machine calls of the operator's tools (`countersign
 * reconcile`, `countersign doctor`, secret rotation), authenticated by `Authorization: Bearer
 * <SHOP_OPERATOR_TOKEN>`. No session, no CSRF (no browser is involved); every answer is no-store with
 * the strict security headers. Without a configured token the API does not exist: every /ops path
 * answers 404 as an unknown path does. The token is compared in constant time (digests of equal
 * length, so not even its length leaks) and never logged; the access log records the path only.
 *
 * Each operator route lives in its own file as a registrar `(ops) => void` that adds routes to the
 * /ops sub-router (paths relative to /ops); main.ts passes every registrar to `mountOperatorApi`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Env, MiddlewareHandler } from 'hono';
import { DomainError, toHttpError } from '../../core/errors.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { setAnswerHeader } from '../../platform/http/answer-header.ts';
import { contentSecurityPolicy, securityHeaders } from '../../platform/http/security-headers.ts';

export const OPS_PREFIX = '/ops';

/** The shortest operator token the shop accepts (SHOP_OPERATOR_TOKEN). */
export const MIN_OPERATOR_TOKEN_LENGTH = 32;

/** Adds routes to the /ops sub-router (paths relative to /ops), behind the operator guard. */
export type OperatorRoutes = (ops: OpenAPIHono<AppEnv>) => void;

// Only the Bearer scheme (any case, as RFC 9110 allows), one space, then the token's printable characters.
const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/i;
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Whether an Authorization header carries exactly this token; constant time in the token. */
export function operatorTokenMatches(header: string | undefined, token: string): boolean {
  const given = BEARER.exec(header ?? '');
  // The digest of something is compared even without a Bearer token, so a refusal takes as long.
  const same = timingSafeEqual(digest(given?.[1] ?? ''), digest(token));
  return given !== null && same;
}

/** Refuses (401, the shop's API error shape) a request without the operator token; never echoes what was sent. */
export function operatorGuard<E extends Env>(token: string): MiddlewareHandler<E> {
  return async (c, next) => {
    if (!operatorTokenMatches(c.req.header('authorization'), token)) {
      const { status, body } = toHttpError(new DomainError('auth.required'));
      c.header('www-authenticate', 'Bearer realm="countersign-shop-operator"');
      return c.json(body, status as 401);
    }
    await next();
  };
}

const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  setAnswerHeader(c, 'cache-control', 'no-store');
};

/**
 * Mounts the operator API on the shop's service app: the headers and the guard on every /ops path,
 * then the routes of each registrar. Without a token nothing is mounted (every /ops path is a 404).
 * Returns whether it was mounted.
 */
export function mountOperatorApi(
  app: OpenAPIHono<AppEnv>,
  token: string | undefined,
  registrars: readonly OperatorRoutes[],
): boolean {
  if (!token) return false;
  if (token.length < MIN_OPERATOR_TOKEN_LENGTH) throw new Error('the operator token is too short');
  app.use(`${OPS_PREFIX}/*`, securityHeaders({ csp: contentSecurityPolicy(), referrerPolicy: 'no-referrer' }));
  app.use(`${OPS_PREFIX}/*`, noStore, operatorGuard(token));
  const ops = createRouter<AppEnv>();
  for (const register of registrars) register(ops);
  app.route(OPS_PREFIX, ops);
  return true;
}
