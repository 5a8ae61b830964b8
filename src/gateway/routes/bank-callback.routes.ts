// POST /bank/callbacks: the bank tells us how a pending authorisation ended. Each attempt is a signed
// request (GATEWAY_BANK_CALLBACK_SECRET; method, path and query, raw body: src/bank/README.md) whose
// request id is consumed before anything else happens; the bank's callback_id, the same on every
// retry, has effect once (dedupe row in the effect's transaction); 2xx only after commit.
import { z } from 'zod';
import { DomainError } from '../../core/errors.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { acceptSignedRequest } from '../../platform/http/signed-request.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { receiveBankCallback } from '../commands/receive-bank-callback.ts';
import { consumeSignedRequest } from '../storage/signed-requests.ts';

const callbackSchema = z.object({
  callback_id: z.string().min(1).max(100),
  type: z.enum(['authorization.approved', 'authorization.declined']),
  authorization_id: z.string().min(1).max(100),
  gateway_ref: z.string().min(1).max(200),
  decline_reason: z.string().max(100).optional(),
});

/** The bank callback router, mounted at /bank. */
export function bankCallbackRoutes(deps: { gateway: GatewayDeps; secrets: readonly string[]; wake?: () => void }) {
  const { database, clock } = deps.gateway;
  const router = createRouter<AppEnv>();
  const guard = {
    secrets: deps.secrets,
    clock,
    consume: (id: string, now: Date) => consumeSignedRequest(database.db, id, now),
  };
  router.post('/callbacks', async (c) => {
    const { body: raw } = await acceptSignedRequest(c, guard);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new DomainError('request.malformed', { reason: 'body_not_json' });
    }
    const body = callbackSchema.parse(json);
    const { duplicate } = await receiveBankCallback(deps.gateway, {
      callbackId: body.callback_id,
      type: body.type,
      authorizationId: body.authorization_id,
      gatewayRef: body.gateway_ref,
      declineReason: body.decline_reason,
    });
    deps.wake?.();
    return c.json({ received: true, duplicate }, 200);
  });
  return router;
}
