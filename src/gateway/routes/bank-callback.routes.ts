// POST /bank/callbacks: the bank tells us how a pending authorisation ended, or of a dispute opened or closed. Each attempt is a signed
// request (GATEWAY_BANK_CALLBACK_SECRET; method, path and query, raw body: src/bank/README.md) whose
// request id is consumed before anything else happens; the bank's callback_id, the same on every
// retry, has effect once (dedupe row in the effect's transaction); 2xx only after commit.
import { z } from 'zod';
import { DomainError } from '../../core/errors.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { acceptSignedRequest } from '../../platform/http/signed-request.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { receiveBankCallback } from '../commands/receive-bank-callback.ts';
import { receiveDisputeCallback, type DisputeCallback } from '../commands/dispute-callback.ts';
import { DISPUTE_REASONS } from '../domain/dispute.machine.ts';
import { consumeSignedRequest } from '../storage/signed-requests.ts';

const callbackSchema = z.object({
  callback_id: z.string().min(1).max(100),
  type: z.enum(['authorization.approved', 'authorization.declined']),
  authorization_id: z.string().min(1).max(100),
  gateway_ref: z.string().min(1).max(200),
  decline_reason: z.string().max(100).optional(),
});

const disputeCallbackSchema = z.discriminatedUnion('type', [
  z.object({
    callback_id: z.string().min(1).max(100),
    type: z.literal('dispute.opened'),
    dispute_ref: z.string().min(1).max(100),
    gateway_ref: z.string().min(1).max(200),
    amount_minor: z.union([z.string().regex(/^[1-9][0-9]{0,17}$/), z.number().int().positive()]),
    currency: z.string().regex(/^[A-Z]{3}$/),
    reason: z.enum(DISPUTE_REASONS),
    evidence_due_by: z.string().datetime({ offset: true }),
  }),
  z.object({
    callback_id: z.string().min(1).max(100),
    type: z.literal('dispute.closed'),
    dispute_ref: z.string().min(1).max(100),
    outcome: z.enum(['won', 'lost']),
  }),
]);

function toDisputeCallback(body: z.infer<typeof disputeCallbackSchema>): DisputeCallback {
  if (body.type === 'dispute.closed')
    return { callbackId: body.callback_id, type: body.type, disputeRef: body.dispute_ref, outcome: body.outcome };
  return {
    callbackId: body.callback_id,
    type: body.type,
    disputeRef: body.dispute_ref,
    gatewayRef: body.gateway_ref,
    amountMinor: BigInt(body.amount_minor),
    currency: body.currency,
    reason: body.reason,
    evidenceDueBy: new Date(body.evidence_due_by),
  };
}

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
    const type = (json as { type?: unknown } | null)?.type;
    if (type === 'dispute.opened' || type === 'dispute.closed') {
      const result = await receiveDisputeCallback(deps.gateway, toDisputeCallback(disputeCallbackSchema.parse(json)));
      deps.wake?.();
      return c.json({ received: true, duplicate: result.duplicate }, 200);
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
