// Both ends of a signed server-to-server request (scheme: src/core/request-signature.ts). The
// receiver verifies the method, the target its router dispatches on and the raw body, then consumes
// the request id in a write of its own that commits before the request has any effect: whatever
// follows (success, 404, 409, a validation failure, a crash), that id can never be used again.
import type { Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { signRequest, verifyRequest, type RequestSignatureHeaders } from '../../core/request-signature.ts';
import type { Clock } from '../clock.ts';

/** How a receiver checks signed requests. */
export interface SignedRequestGuard {
  /** The sender's signing secrets (two during a rotation). */
  readonly secrets: readonly string[];
  readonly clock: Clock;
  /** Records the id in its own committed write; false when it was already recorded. */
  readonly consume: (id: string, now: Date) => Promise<boolean>;
}

/**
 * The request target as Hono's router reads it from the URL: from the first "/" after the scheme
 * and host to the end, without a fragment. Signing exactly what is routed leaves no gap between
 * the path that was verified and the path that acts.
 */
export function routedTarget(url: string): string {
  const start = url.indexOf('/', url.indexOf(':') + 4);
  if (start === -1) return '/';
  const hash = url.indexOf('#', start);
  return url.slice(start, hash === -1 ? undefined : hash);
}

/** Verifies the request in `c` and consumes its id; returns the id and the raw body, or throws. */
export async function acceptSignedRequest(
  c: Context,
  guard: SignedRequestGuard,
): Promise<{ id: string; body: string }> {
  const body = await c.req.text();
  const { id } = verifyRequest({
    method: c.req.method,
    target: routedTarget(c.req.url),
    body,
    headers: c.req.header(),
    secrets: guard.secrets,
    now: guard.clock.now(),
  });
  if (!(await guard.consume(id, guard.clock.now()))) throw new DomainError('request.replayed', { id });
  return { id, body };
}

/** Headers signing a request to `url` (path and query as fetch will send them) under a new id. */
export function signedRequestHeaders(input: {
  method: string;
  url: string;
  body: string;
  secrets: readonly string[];
  clock: Clock;
}): RequestSignatureHeaders {
  const url = new URL(input.url);
  return signRequest({
    method: input.method,
    target: url.pathname + url.search,
    body: input.body,
    id: newId('sreq', input.clock.now()),
    timestamp: input.clock.now(),
    secrets: input.secrets,
  });
}
