// Stripe's cancel of a PaymentIntent: before payment it cancels the session; on an
// authorisation awaiting its capture it is the refusal, and the hold is voided at the bank in the
// request (the settle job scheduled in the same transaction carries it out if the bank is down now).
import { DomainError } from '../../core/errors.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { decideAcknowledgement } from '../domain/session.machine.ts';
import { SETTLE_TASK } from '../jobs/task-names.ts';
import { lockSession, moveSession } from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';
import type { GatewayDeps } from './deps.ts';
import { settleSession } from './settle-session.ts';

type Deps = Pick<GatewayDeps, 'database' | 'issuer' | 'clock' | 'log' | 'fees'>;

/** Cancels a Stripe session of this merchant with Stripe's cancellation_reason (or null). */
export async function cancelPayment(
  deps: Deps,
  merchantId: string,
  sessionId: string,
  cancellationReason: string | null,
): Promise<SessionRow> {
  const { clock } = deps;
  const refused = await deps.database.transaction(async (tx) => {
    const s = await lockSession(tx, sessionId, merchantId);
    const stripe = s.stripe ? { ...s.stripe, cancellation_reason: cancellationReason } : null;
    if (s.api !== 'stripe') throw new DomainError('not_found', { resource: 'payment_intent' });
    if (s.status === 'created') {
      await moveSession(tx, s, 'cancel', clock, {
        patch: { stripe },
        reason: cancellationReason ?? 'canceled_by_merchant',
      });
      return null;
    }
    if (s.status !== 'authorized' || !decideAcknowledgement(s, 'refuse', clock.now()).ok)
      throw new DomainError('state.illegal_transition', { status: s.status, event: 'cancel' });
    await moveSession(tx, s, 'refuse', clock, {
      patch: { stripe, voidReason: cancellationReason ?? 'canceled_by_merchant' },
    });
    await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId }, key: `settle:${sessionId}` }, clock);
    return s.id;
  });
  if (refused) {
    try {
      await settleSession(deps, sessionId);
    } catch (err) {
      deps.log?.warn({ sessionId, err }, 'void at the bank failed; the settle job will retry');
    }
  }
  return deps.database.transaction((tx) => lockSession(tx, sessionId, merchantId));
}
