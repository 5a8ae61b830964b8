// The merchant cancels a session nobody has paid yet.
import { lockSession, moveSession } from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';
import type { GatewayDeps } from './deps.ts';

/** Cancels a session in `created`; repeating the cancel returns the canceled session. */
export async function cancelSession(
  deps: Pick<GatewayDeps, 'database' | 'clock'>,
  merchantId: string,
  id: string,
): Promise<SessionRow> {
  return deps.database.transaction(async (tx) => {
    const s = await lockSession(tx, id, merchantId);
    if (s.status === 'canceled') return s;
    return (await moveSession(tx, s, 'cancel', deps.clock, { reason: 'canceled_by_merchant' })).session;
  });
}
