// The bank tells us, by a signed callback, how a pending authorisation ended.
import { DomainError } from '../../core/errors.ts';
import type { IssuerDecision } from '../issuer/issuer.port.ts';
import { recordBankCallback } from '../storage/bank-callbacks.ts';
import { findSession } from '../storage/sessions.ts';
import { applyDecisionTx } from './apply-decision.ts';
import type { GatewayDeps } from './deps.ts';

export interface BankCallback {
  readonly callbackId: string;
  readonly type: 'authorization.approved' | 'authorization.declined';
  readonly authorizationId: string;
  readonly gatewayRef: string;
  readonly declineReason?: string | undefined;
}

/**
 * Applies a bank callback once: its dedupe row and its effect commit together, so a retry of a
 * callback that took effect changes nothing. Returns whether it was such a duplicate.
 */
export async function receiveBankCallback(
  deps: Pick<GatewayDeps, 'database' | 'clock' | 'log'>,
  callback: BankCallback,
): Promise<{ duplicate: boolean }> {
  const { database, clock } = deps;
  const session = await findSession(database.db, callback.gatewayRef);
  if (!session) throw new DomainError('not_found', { resource: 'payment_session' });
  const decision: IssuerDecision =
    callback.type === 'authorization.approved'
      ? { status: 'approved', authorizationId: callback.authorizationId }
      : {
          status: 'declined',
          authorizationId: callback.authorizationId,
          declineReason: callback.declineReason ?? 'card_declined',
        };
  return database.transaction(async (tx) => {
    const first = await recordBankCallback(tx, {
      callbackId: callback.callbackId,
      type: callback.type,
      authorizationId: callback.authorizationId,
      receivedAt: clock.now(),
    });
    if (!first) return { duplicate: true };
    await applyDecisionTx(deps, tx, session.id, decision);
    return { duplicate: false };
  });
}
