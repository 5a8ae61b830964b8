// The shop refused payment.authorized (409/422): the void is scheduled at once.
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { decideAcknowledgement } from '../domain/session.machine.ts';
import { SETTLE_TASK } from '../jobs/task-names.ts';
import { lockSession, moveSession } from '../storage/sessions.ts';
import type { GatewayDeps } from './deps.ts';

/** Records the refusal if the acknowledgement is still awaited (late or not); false otherwise. */
export async function refuseSession(
  deps: Pick<GatewayDeps, 'database' | 'clock'>,
  sessionId: string,
  reason: string,
): Promise<boolean> {
  return deps.database.transaction(async (tx) => {
    const s = await lockSession(tx, sessionId);
    // A Stripe session is refused by POST …/cancel, never by a webhook's answer.
    if (s.api === 'stripe') return false;
    if (!decideAcknowledgement(s, 'refuse', deps.clock.now()).ok) return false;
    await moveSession(tx, s, 'refuse', deps.clock, { patch: { voidReason: reason } });
    await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId }, key: `settle:${sessionId}` }, deps.clock);
    return true;
  });
}
