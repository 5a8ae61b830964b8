// The bank's decision on an authorisation, however it arrives: the answer to the card submit, a
// callback, a poll, or recovery after a crash.
import { crashPoint } from '../../platform/crash-points.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { SETTLE_TASK } from '../jobs/task-names.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { IssuerDecision } from '../issuer/issuer.port.ts';
import { authorizationTransfers } from '../domain/ledger.payment.ts';
import { postTransfers } from '../storage/ledger.ts';
import {
  isSessionChangedConcurrently,
  lockSessionWithMerchant,
  moveSession,
  type SessionMerchant,
} from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';
import type { GatewayDeps } from './deps.ts';

type Deps = Pick<GatewayDeps, 'database' | 'clock' | 'log'>;

/**
 * The session as the caller left it in its own committed transaction (the card submit's move to
 * `processing`), with its merchant. Given it, the decision is applied without reading and locking the
 * row first: moveSession's update is guarded by the status and sequence, so it writes only when the
 * row is still exactly this one (every other change of a session in `processing` bumps the sequence),
 * and it takes the row's lock itself. The merchant's acknowledgement window is the one read then.
 */
export interface KnownSession {
  readonly session: SessionRow;
  readonly merchant: SessionMerchant;
}

/** Applies a bank decision to a session inside the caller's transaction; stale or repeated ones change nothing. */
export async function applyDecisionTx(
  deps: Deps,
  tx: Executor,
  sessionId: string,
  decision: IssuerDecision,
  known?: KnownSession,
): Promise<SessionRow> {
  const { clock } = deps;
  // A known row is used only as the card submit leaves it (processing, no authorisation yet): every
  // decision then writes through the guarded update, and none returns the known row unwritten.
  const usable =
    known?.session.id === sessionId && known.session.status === 'processing' && !known.session.bankAuthorizationId;
  const { session: s, merchant } = usable ? known : await lockSessionWithMerchant(tx, sessionId);
  if (s.bankAuthorizationId && decision.authorizationId && s.bankAuthorizationId !== decision.authorizationId) {
    deps.log?.warn(
      { sessionId, authorizationId: decision.authorizationId },
      'bank decision for another authorisation ignored',
    );
    return s;
  }
  if (s.status !== 'processing' && s.status !== 'requires_approval') return s;
  if (decision.status === 'pending') {
    if (s.status !== 'processing') return s;
    return (
      await moveSession(tx, s, 'bank_pending', clock, {
        patch: {
          bankAuthorizationId: decision.authorizationId,
          approvalExpiresAt: decision.approvalExpiresAt ? new Date(decision.approvalExpiresAt) : null,
        },
      })
    ).session;
  }
  if (decision.status === 'declined') {
    return (
      await moveSession(tx, s, 'bank_declined', clock, {
        patch: {
          declineReason: decision.declineReason,
          ...(decision.authorizationId ? { bankAuthorizationId: decision.authorizationId } : {}),
        },
        reason: decision.declineReason,
      })
    ).session;
  }
  const now = clock.now();
  const authorized = (
    await moveSession(tx, s, 'bank_approved', clock, {
      patch: {
        bankAuthorizationId: decision.authorizationId,
        authorizedAt: now,
        ackDeadline: new Date(now.getTime() + merchant.ackWindowSeconds * 1000),
      },
    })
  ).session;
  // The books: the authorised amount reserved for the merchant, in the transaction that authorises.
  // The guarded move to authorized happens once per session, so its transfer is not recorded yet.
  await postTransfers(tx, authorizationTransfers(authorized), now, { unrecorded: true });
  // Stripe's capture_method=automatic: acknowledged at authorisation, so captured at once.
  if (authorized.captureMethod !== 'automatic') return authorized;
  const acknowledged = (await moveSession(tx, authorized, 'acknowledge', clock, { patch: { acknowledgedAt: now } }))
    .session;
  await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId }, key: `settle:${sessionId}` }, clock);
  return acknowledged;
}

/**
 * Applies a bank decision in its own transaction. With `known`, the row is not read first; when it
 * has changed since (a callback or a poll applied a decision meanwhile), that transaction rolls back
 * having written nothing and the decision is applied again on the row read and locked.
 */
export async function applyDecision(
  deps: Deps,
  sessionId: string,
  decision: IssuerDecision,
  known?: KnownSession,
): Promise<SessionRow> {
  const apply = (from?: KnownSession) =>
    deps.database.transaction(async (tx) => {
      const s = await applyDecisionTx(deps, tx, sessionId, decision, from);
      if (s.status === 'authorized') crashPoint('gateway.authorize.before_commit');
      return s;
    });
  if (!known) return apply();
  try {
    return await apply(known);
  } catch (err) {
    if (!isSessionChangedConcurrently(err)) throw err;
    return apply();
  }
}
