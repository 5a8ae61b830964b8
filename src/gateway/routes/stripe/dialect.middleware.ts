// The /v1 door: the API key decides the dialect. A Stripe-dialect key's request is
// answered by the Stripe router, whatever its path (a native path is an unknown Stripe URL there); a
// native key's goes on to the native router (where a Stripe-only path is an unknown native route). No
// key or a wrong one: Stripe's 401 when the request looks like Stripe's, else the native router's own 401.
import type { MiddlewareHandler } from 'hono';
import type { Database } from '../../../platform/db/database.ts';
import { findApiKeyOwner } from '../../storage/merchants.ts';
import type { MerchantRow } from '../../storage/tables.ts';
import { invalidApiKey, StripeApiError } from './errors.ts';
import { readParams, type Params } from './form.ts';

/** What the Stripe router is handed with each request. */
export interface StripeBindings {
  readonly merchant: MerchantRow;
  /** Whether the merchant had fault injection on when its key was read (off: the request draws nothing). */
  readonly faultsOn: boolean;
  readonly params: Params;
  /** The parameters as one canonical string (the idempotency fingerprint). */
  readonly canonical: string;
}

/** The secret key of a request: `Authorization: Bearer sk_…`, or Basic with the key as user (curl -u sk_…:). */
export function requestKey(authorization: string | undefined): string | null {
  const header = authorization ?? '';
  const bearer = /^Bearer (\S{10,200})$/.exec(header);
  if (bearer) return bearer[1]!;
  const basic = /^Basic ([A-Za-z0-9+/=]{4,400})$/.exec(header);
  if (!basic) return null;
  const user = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] ?? '';
  return /^\S{10,200}$/.test(user) ? user : null;
}

/** Whether an unauthenticated request looks like a Stripe client's (its 401 then takes Stripe's shape). */
function looksLikeStripe(headers: { header(name: string): string | undefined }): boolean {
  const type = (headers.header('content-type') ?? '').toLowerCase();
  return (
    type.startsWith('application/x-www-form-urlencoded') ||
    headers.header('stripe-version') !== undefined ||
    (headers.header('user-agent') ?? '').startsWith('Stripe/')
  );
}

/** The context variable under which the dispatcher hands a native key's owner to the native router. */
export const KNOWN_KEY_OWNER = 'knownKeyOwner';

/** What the dispatcher hands on under KNOWN_KEY_OWNER. */
export interface KnownKeyOwner {
  readonly authorization: string | undefined;
  readonly merchant: MerchantRow;
  readonly faultsOn: boolean;
}

/** The dispatcher in front of the native /v1 router. */
export function dialectDispatch(deps: {
  database: Database;
  stripe: { fetch(request: Request, env: StripeBindings): Response | Promise<Response> };
}): MiddlewareHandler {
  return async (c, next) => {
    const key = requestKey(c.req.header('authorization'));
    const owner = key ? await findApiKeyOwner(deps.database.db, key) : null;
    if (owner?.api === 'native') {
      // The native router's key check reuses this lookup for the same Authorization header.
      c.set(
        KNOWN_KEY_OWNER as never,
        {
          authorization: c.req.header('authorization'),
          merchant: owner.merchant,
          faultsOn: owner.faultsOn,
        } satisfies KnownKeyOwner as never,
      );
      return next();
    }
    if (!owner) {
      if (!looksLikeStripe(c.req)) return next();
      const err = invalidApiKey(key !== null);
      return c.json({ error: err.body }, 401);
    }
    let read: { canonical: string; params: Params };
    try {
      read = await readParams(c);
    } catch (err) {
      if (err instanceof StripeApiError) return c.json({ error: err.body }, err.status as 400);
      throw err;
    }
    // The body is already read (and parsed) here; the Stripe router gets the request without it.
    const headers = new Headers(c.req.raw.headers);
    headers.delete('content-length');
    const forwarded = new Request(c.req.url, { method: c.req.method, headers });
    return deps.stripe.fetch(forwarded, { merchant: owner.merchant, faultsOn: owner.faultsOn, ...read });
  };
}
