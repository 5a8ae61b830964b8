// POST /bank/callbacks: the bank tells us how a pending authorisation ended. Signed with Standard
// Webhooks (GATEWAY_BANK_CALLBACK_SECRET) over the raw body; timestamp within tolerance; each
// webhook-id has effect once (dedupe row in the effect's transaction); 2xx only after commit.
import { z } from 'zod';
import { DomainError } from '../../core/errors.ts';
import { verifyWebhook } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import type { Payments } from '../payments.ts';
import { findSession } from '../storage/sessions.ts';
import { bankCallbacks } from '../storage/tables.ts';

const callbackSchema = z.object({
  type: z.enum(['authorization.approved', 'authorization.declined']),
  authorization_id: z.string().min(1).max(100),
  gateway_ref: z.string().min(1).max(200),
  decline_reason: z.string().max(100).optional(),
});

/** The bank callback router, mounted at /bank. */
export function bankCallbackRoutes(deps: { database: Database; payments: Payments; clock: Clock; secrets: readonly string[]; wake?: () => void }) {
  const router = createRouter<AppEnv>();
  router.post('/callbacks', async (c) => {
    const raw = await c.req.text();
    const { id } = verifyWebhook({ headers: c.req.header(), body: raw, secrets: deps.secrets, now: deps.clock.now() });
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new DomainError('request.malformed', { reason: 'body_not_json' });
    }
    const body = callbackSchema.parse(json);
    const session = await findSession(deps.database.db, body.gateway_ref);
    if (!session) throw new DomainError('not_found', { resource: 'payment_session' });
    const duplicate = await deps.database.transaction(async (tx) => {
      const inserted = await tx
        .insert(bankCallbacks)
        .values({ webhookId: id, type: body.type, authorizationId: body.authorization_id, receivedAt: deps.clock.now() })
        .onConflictDoNothing()
        .returning({ id: bankCallbacks.webhookId });
      if (inserted.length === 0) return true;
      await deps.payments.applyDecisionTx(
        tx,
        session.id,
        body.type === 'authorization.approved'
          ? { status: 'approved', authorizationId: body.authorization_id }
          : { status: 'declined', authorizationId: body.authorization_id, declineReason: body.decline_reason ?? 'card_declined' },
      );
      return false;
    });
    deps.wake?.();
    return c.json({ received: true, duplicate }, 200);
  });
  return router;
}
