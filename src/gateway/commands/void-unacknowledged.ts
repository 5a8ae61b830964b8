// The acknowledgement window: authorisations the shop did not accept in time are voided, and
// decisions the settle job could not carry out (the bank down through all its retries) are retried.
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { decideAcknowledgement } from '../domain/session.machine.ts';
import { SETTLE_TASK } from '../jobs/task-names.ts';
import { listOverdueAcknowledgementIds, listUnsettledIds, lockSession, moveSession } from '../storage/sessions.ts';
import type { GatewayDeps } from './deps.ts';

type Deps = Pick<GatewayDeps, 'database' | 'clock'>;

/** Authorisations whose acknowledgement window passed without a 2xx: timed out, their void scheduled; returns their ids. */
export async function voidUnacknowledged(deps: Deps): Promise<string[]> {
  const { database, clock } = deps;
  const overdue = await listOverdueAcknowledgementIds(database.db, clock.now());
  const done: string[] = [];
  for (const id of overdue) {
    const timedOut = await database.transaction(async (tx) => {
      const s = await lockSession(tx, id);
      if (!decideAcknowledgement(s, 'time_out', clock.now()).ok) return false;
      await moveSession(tx, s, 'time_out', clock, { patch: { voidReason: 'acknowledgement_timeout' } });
      await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId: id }, key: `settle:${id}` }, clock);
      return true;
    });
    if (timedOut) done.push(id);
  }
  return done;
}

/** Decided but not settled for 10 minutes (the bank was down through every retry of the job): try again, once per 10-minute bucket. */
export async function retryUnsettled(deps: Deps): Promise<number> {
  const { database, clock } = deps;
  const now = clock.now();
  const stuck = await listUnsettledIds(database.db, new Date(now.getTime() - 600_000));
  const bucket = Math.floor(now.getTime() / 600_000);
  await database.transaction(async (tx) => {
    for (const id of stuck)
      await enqueue(tx, { task: SETTLE_TASK, payload: { sessionId: id }, key: `settle:${id}:${bucket}` }, clock);
  });
  return stuck.length;
}
