// Idempotency-Key with Stripe's rules, on the native edge's storage (storage/idempotency.ts): keys are
// scoped to the merchant; the same key with the same endpoint and parameters replays the first answer
// (header Idempotent-Replayed: true); other parameters or another endpoint → 400 idempotency_error;
// the first request still running → 409 idempotency_error. As at Stripe, only a request that ran is
// remembered: a 2xx or a 402 (the card was tried) is kept, any other answer releases the key.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { DomainError } from '../../../core/errors.ts';
import type { Clock } from '../../../platform/clock.ts';
import type { Database } from '../../../platform/db/database.ts';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../../storage/idempotency.ts';
import type { StripeBindings } from './dialect.middleware.ts';
import { invalidParam } from './errors.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The middleware of the Stripe router (after the dispatcher authenticated the merchant). */
export function stripeIdempotency(deps: {
  database: Database;
  clock: Clock;
}): MiddlewareHandler<{ Bindings: StripeBindings }> {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!KEY.test(key)) throw invalidParam('Idempotency-Key', 'Idempotency-Key must be 1 to 255 printable characters.');
    const merchantId = c.env.merchant.id;
    const hash = createHash('sha256')
      .update(`stripe ${c.req.method} ${c.req.path}\n`)
      .update(c.env.canonical)
      .digest('hex');
    const claim = await claimIdempotencyKey(deps.database.db, merchantId, key, hash, deps.clock);
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
      await releaseIdempotencyKey(deps.database.db, merchantId, key);
      throw err;
    }
    // Hono catches a route's throw and answers through onError before control returns here: the
    // status decides.
    const status = c.res.status;
    if ((status >= 200 && status < 300) || status === 402) {
      await completeIdempotencyKey(deps.database.db, merchantId, key, status, await c.res.clone().text());
    } else {
      await releaseIdempotencyKey(deps.database.db, merchantId, key);
    }
  };
}
