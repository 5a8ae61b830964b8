// Sessions nobody paid before their expiry.
import { listExpiredSessionIds, lockSession, moveSession } from '../storage/sessions.ts';
import type { GatewayDeps } from './deps.ts';

/** Expires sessions in `created` past their expiry; returns their ids. */
export async function expireSessions(deps: Pick<GatewayDeps, 'database' | 'clock'>): Promise<string[]> {
  const { database, clock } = deps;
  const now = clock.now();
  const due = await listExpiredSessionIds(database.db, now);
  const done: string[] = [];
  for (const id of due) {
    await database.transaction(async (tx) => {
      const s = await lockSession(tx, id);
      if (s.status !== 'created' || s.expiresAt.getTime() > now.getTime()) return;
      await moveSession(tx, s, 'expire', clock, { reason: 'session_expired' });
      done.push(id);
    });
  }
  return done;
}
