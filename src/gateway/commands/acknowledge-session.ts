// The shop accepts an authorisation: by a 2xx to payment.authorized (the delivery job), or through the
// API when the webhook never arrived. Either way the capture is scheduled in the same transaction.
import { DomainError } from '../../core/errors.ts';
import { rows, type Executor } from '../../platform/db/database.ts';
import { enqueue, enqueueAlong, type AlongWrites } from '../../platform/jobs/enqueue.ts';
import { decideAcknowledgement } from '../domain/session.machine.ts';
import { SETTLE_TASK } from '../jobs/task-names.ts';
import { acknowledgementUpdate, lockSession, moveSession } from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';
import type { GatewayDeps } from './deps.ts';

type Deps = Pick<GatewayDeps, 'database' | 'clock'>;

/** Acknowledges a locked session if the machine allows it now; false (nothing written) otherwise. */
async function acknowledgeLocked(deps: Deps, tx: Executor, s: SessionRow): Promise<boolean> {
  const now = deps.clock.now();
  if (!decideAcknowledgement(s, 'acknowledge', now).ok) return false;
  await moveSession(tx, s, 'acknowledge', deps.clock, { patch: { acknowledgedAt: now } });
  await enqueue(tx, settleJob(s.id), deps.clock);
  return true;
}

/** The settle job an acknowledgement schedules (one per session, ever). */
const settleJob = (sessionId: string) => ({ task: SETTLE_TASK, payload: { sessionId }, key: `settle:${sessionId}` });

/**
 * The shop answered 2xx to payment.authorized: acknowledged if still awaited and in time; false otherwise.
 * `known`: the session as the delivery read it, unlocked. When the machine accepts the acknowledgement
 * on it, the write and its settle job are one statement, guarded so that it changes nothing unless the
 * row is still as read; otherwise (or when the guard finds it changed) the row is read and locked and
 * decided on again, as without it.
 */
export async function acknowledgeSession(deps: Deps, sessionId: string, known?: SessionRow): Promise<boolean> {
  return (await acknowledgeDelivered(deps, sessionId, known)).acknowledged;
}

/**
 * acknowledgeSession with the delivery's own writes (AlongWrites): in the guarded statement when there
 * is one, its attempt (`first`) whatever the guard finds and its settling (`then`) only with the
 * acknowledgement; else the attempt alone, before the locked way. `settled`: `then` ran, so the
 * delivery is settled; otherwise the caller settles it.
 */
export async function acknowledgeDelivered(
  deps: Deps,
  sessionId: string,
  known?: SessionRow,
  delivery: AlongWrites = {},
): Promise<{ acknowledged: boolean; settled: boolean }> {
  let recorded = false;
  if (known?.id === sessionId && known.api !== 'stripe') {
    const now = deps.clock.now();
    if (decideAcknowledgement(known, 'acknowledge', now).ok) {
      const write = acknowledgementUpdate(deps.database.db, known, 'acknowledge', now, { acknowledgedAt: now });
      const along = await enqueueAlong(deps.database.db, write, settleJob(sessionId), deps.clock, delivery);
      if (along.wrote) return { acknowledged: true, settled: delivery.then !== undefined };
      recorded = true;
    }
  }
  if (!recorded && delivery.first) await rows(deps.database.db, delivery.first.getSQL());
  const acknowledged = await deps.database.transaction(async (tx) => {
    const s = await lockSession(tx, sessionId);
    // A Stripe session is acknowledged by its capture (or at authorisation), never by a webhook's 2xx.
    if (s.api === 'stripe') return false;
    return acknowledgeLocked(deps, tx, s);
  });
  return { acknowledged, settled: false };
}

/**
 * The merchant accepts an authorisation through the API instead of by answering its webhook (it
 * learned of it from the event feed or a status read because the webhook never arrived): the same
 * acknowledgement as a 2xx, under the same window. A repeat is a no-op; refused, timed out, voided
 * or past the window is state.illegal_transition (the void follows as an event).
 */
export async function acknowledgeByMerchant(deps: Deps, merchantId: string, sessionId: string): Promise<SessionRow> {
  return deps.database.transaction(async (tx) => {
    const s = await lockSession(tx, sessionId, merchantId);
    if (s.acknowledgement === 'acknowledged') return s;
    if (!(await acknowledgeLocked(deps, tx, s))) {
      throw new DomainError('state.illegal_transition', { status: s.status, acknowledgement: s.acknowledgement });
    }
    return lockSession(tx, sessionId, merchantId);
  });
}
