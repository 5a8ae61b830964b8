// Pending authorisations whose callback may have been lost: the bank is asked.
import { listStaleSessions } from '../storage/sessions.ts';
import { applyDecision } from './apply-decision.ts';
import type { GatewayDeps } from './deps.ts';

/** Asks the bank about authorisations pending longer than `olderThanMs`; returns how many it decided. */
export async function pollPending(
  deps: Pick<GatewayDeps, 'database' | 'issuer' | 'clock' | 'log'>,
  olderThanMs = 10_000,
): Promise<number> {
  const { database, issuer, clock } = deps;
  const pending = await listStaleSessions(
    database.db,
    'requires_approval',
    new Date(clock.now().getTime() - olderThanMs),
  );
  let changed = 0;
  for (const s of pending) {
    if (!s.bankAuthorizationId) continue;
    try {
      const st = await issuer.status(s.bankAuthorizationId);
      if (st.status === 'approved')
        await applyDecision(deps, s.id, { status: 'approved', authorizationId: s.bankAuthorizationId });
      else if (st.status === 'declined') {
        await applyDecision(deps, s.id, {
          status: 'declined',
          authorizationId: s.bankAuthorizationId,
          declineReason: st.declineReason ?? 'card_declined',
        });
      } else continue;
      changed++;
    } catch (err) {
      deps.log?.warn({ sessionId: s.id, err }, 'polling the bank failed');
    }
  }
  return changed;
}
