// Stripe's capture: for a session with capture_method=manual, the merchant's capture
// IS the acknowledgement. It is acknowledged under the row lock (the settle job scheduled in the same
// transaction, as for a webhook's 2xx), then captured at the bank in the request; if the bank cannot
// be reached now, the job keeps trying and the caller learns the capture is not done yet.
import { DomainError } from '../../core/errors.ts';
import { lockSession } from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';
import { acknowledgeByMerchant } from './acknowledge-session.ts';
import type { GatewayDeps } from './deps.ts';
import { settleSession } from './settle-session.ts';

type Deps = Pick<GatewayDeps, 'database' | 'issuer' | 'clock' | 'log' | 'fees'>;

/**
 * Captures a manual-capture Stripe session of this merchant: acknowledges it (refused when it is not
 * authorised and awaiting, or its window has passed) and captures it. Returns the captured session,
 * or throws upstream.unavailable when the bank did not answer (the acknowledgement stands; the job
 * captures later, and a repeated capture answers once it has).
 */
export async function capturePayment(deps: Deps, merchantId: string, sessionId: string): Promise<SessionRow> {
  const s = await deps.database.transaction((tx) => lockSession(tx, sessionId, merchantId));
  if (s.api !== 'stripe' || s.captureMethod !== 'manual' || s.status !== 'authorized')
    throw new DomainError('state.illegal_transition', { status: s.status, event: 'capture' });
  await acknowledgeByMerchant(deps, merchantId, sessionId);
  try {
    const settled = await settleSession(deps, sessionId);
    if (settled?.status === 'captured') return settled;
  } catch (err) {
    deps.log?.warn({ sessionId, err }, 'capture at the bank failed; the settle job will retry');
  }
  throw new DomainError('upstream.unavailable', { reason: 'capture_pending' });
}
