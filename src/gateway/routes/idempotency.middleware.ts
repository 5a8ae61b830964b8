// Idempotency-Key on every POST, as Stripe does it: same key + same request replays the first
// response; same key + different request is 422 idempotency.key_reused; same key while the first is
// still running is 409 idempotency.in_progress. The claim is its own committed transaction before
// the handler runs, so the unique key decides concurrent races. A 5xx releases the key (the request
// did not happen as far as the client can tell, so a retry must run it).
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../storage/idempotency.ts';
import type { MerchantRow } from '../storage/tables.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The middleware; runs after authentication (it scopes keys to the merchant). */
export function idempotency(deps: {
  database: Database;
  clock: Clock;
}): MiddlewareHandler<{ Variables: { merchant: MerchantRow } }> {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!KEY.test(key))
      throw new DomainError('validation.failed', {
        header: 'Idempotency-Key',
        reason: 'must be 1 to 255 printable characters',
      });
    const merchant = c.get('merchant');
    const body = await c.req.text();
    const hash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n`).update(body).digest('hex');
    const claim = await claimIdempotencyKey(deps.database.db, merchant.id, key, hash, deps.clock);
    if (claim.kind === 'mismatch') throw new DomainError('idempotency.key_reused');
    if (claim.kind === 'in_progress') throw new DomainError('idempotency.in_progress');
    if (claim.kind === 'replay') {
      return c.body(claim.body, claim.status as 200, {
        'content-type': 'application/json',
        'idempotent-replayed': 'true',
      });
    }
    try {
      await next();
    } catch (err) {
      await releaseIdempotencyKey(deps.database.db, merchant.id, key);
      throw err;
    }
    const status = c.res.status;
    if (status >= 500) {
      await releaseIdempotencyKey(deps.database.db, merchant.id, key);
      return;
    }
    const text = await c.res.clone().text();
    await completeIdempotencyKey(deps.database.db, merchant.id, key, status, text);
  };
}
