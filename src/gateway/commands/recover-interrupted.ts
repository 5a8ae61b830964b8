// Card submissions whose bank answer was never recorded (a crash between the submit and its answer).
import type { IssuerDecision, IssuerPort } from '../issuer/issuer.port.ts';
import { listStaleIds, lockStaleSession, moveSession } from '../storage/sessions.ts';
import { applyDecisionTx } from './apply-decision.ts';
import type { GatewayDeps } from './deps.ts';

type Found = Awaited<ReturnType<IssuerPort['findByReference']>>;

/** What the bank's record of our reference means for the session; null: it holds nothing, the payer may try again. */
function decisionFrom(found: Found): IssuerDecision | null {
  if (found?.status === 'approved') return { status: 'approved', authorizationId: found.authorizationId };
  if (found?.status === 'pending') return { status: 'pending', authorizationId: found.authorizationId };
  if (found?.status === 'declined')
    return {
      status: 'declined',
      authorizationId: found.authorizationId,
      declineReason: found.declineReason ?? 'card_declined',
    };
  return null;
}

/**
 * Sessions left in `processing` by a crash between the card submit and recording the bank's answer.
 * The bank is asked what it did for our reference (the session id): an authorisation it made is
 * applied as its answer (approved: the shop is asked to accept it, then it is captured or voided like
 * any other; pending or declined likewise); one it never saw sends the session back to `created` so
 * the payer may try again (a retry reuses the session id as gateway_ref: nothing is authorised twice).
 * `olderThanMs` must exceed the bank call's timeout, so that a call still in flight is not taken for
 * one the bank never saw, and a hold the bank placed is never left with nothing to capture or release it.
 */
export async function recoverInterrupted(
  deps: Pick<GatewayDeps, 'database' | 'issuer' | 'clock' | 'log'>,
  olderThanMs = 120_000,
): Promise<string[]> {
  const { database, issuer, clock } = deps;
  const cutoff = new Date(clock.now().getTime() - olderThanMs);
  const stuck = await listStaleIds(database.db, 'processing', cutoff);
  const done: string[] = [];
  for (const id of stuck) {
    let found: Found;
    try {
      found = await issuer.findByReference(id);
    } catch (err) {
      deps.log?.warn(
        { sessionId: id, err },
        'asking the bank about an interrupted authorisation failed; will ask again',
      );
      continue;
    }
    const decision = decisionFrom(found);
    const changed = await database.transaction(async (tx) => {
      const s = await lockStaleSession(tx, id, 'processing', cutoff);
      if (!s) return false;
      if (decision) await applyDecisionTx(deps, tx, id, decision);
      else await moveSession(tx, s, 'authorization_failed', clock, { patch: { lastError: 'interrupted' } });
      return true;
    });
    if (changed) done.push(id);
  }
  return done;
}
