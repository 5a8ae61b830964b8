// Retention: rows that only guard a time window are deleted once the window is long past.
import { lt } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { pruneRealtimeMessages } from '../../platform/realtime/index.ts';
import { LOGIN_WINDOW_MINUTES } from '../auth/sessions.ts';
import { bankSessions, gatewayRequests, loginFailures } from './tables.ts';

/**
 * A gateway request id older than an hour can go: its timestamp is outside the 5-minute tolerance,
 * so a replay of it is refused on the timestamp before the id is looked at.
 */
export const GATEWAY_REQUEST_RETENTION_MS = 3600_000;
/** Real-time messages are kept a day: far longer than an approval request or an open app lives. */
export const REALTIME_RETENTION_MS = 86_400_000;

/** Deletes expired sessions, old login failures, old gateway request ids and old real-time messages. */
export async function pruneBankRecords(tx: Executor, now: Date): Promise<void> {
  await tx
    .delete(gatewayRequests)
    .where(lt(gatewayRequests.receivedAt, new Date(now.getTime() - GATEWAY_REQUEST_RETENTION_MS)));
  await tx.delete(loginFailures).where(lt(loginFailures.at, new Date(now.getTime() - LOGIN_WINDOW_MINUTES * 60_000)));
  await tx.delete(bankSessions).where(lt(bankSessions.expiresAt, now));
  await pruneRealtimeMessages(tx, new Date(now.getTime() - REALTIME_RETENTION_MS));
}
