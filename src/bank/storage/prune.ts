// Retention: rows that only guard a time window are deleted once the window is long past, and history
// that is durable elsewhere (real-time messages, succeeded jobs) after its retention.
import { lt } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/database.ts';
import { pruneFinishedJobs } from '../../platform/jobs/prune.ts';
import { pruneRealtimeMessages, REALTIME_RETENTION_MS } from '../../platform/realtime/index.ts';
import { LOGIN_WINDOW_MINUTES } from '../auth/sessions.ts';
import { bankSessions, gatewayRequests, loginFailures } from './tables.ts';

/**
 * A gateway request id older than an hour can go: its timestamp is outside the 5-minute tolerance,
 * so a replay of it is refused on the timestamp before the id is looked at.
 */
export const GATEWAY_REQUEST_RETENTION_MS = 3600_000;
/** Deletes expired sessions, old login failures and old gateway request ids (small: one transaction). */
export async function pruneBankRecords(tx: Executor, now: Date): Promise<void> {
  await tx
    .delete(gatewayRequests)
    .where(lt(gatewayRequests.receivedAt, new Date(now.getTime() - GATEWAY_REQUEST_RETENTION_MS)));
  await tx.delete(loginFailures).where(lt(loginFailures.at, new Date(now.getTime() - LOGIN_WINDOW_MINUTES * 60_000)));
  await tx.delete(bankSessions).where(lt(bankSessions.expiresAt, now));
}

/** What one retention run deleted. */
export interface BankPruned {
  readonly realtimeMessages: number;
  readonly jobs: number;
}

/**
 * The recurring retention run: the small time-window tables in one transaction, then real-time
 * messages older than a day and jobs that succeeded more than `jobRetentionMs` ago, each in bounded
 * batches outside it (a backlog never holds one long transaction).
 */
export async function pruneBank(database: Database, now: Date, jobRetentionMs: number): Promise<BankPruned> {
  await database.transaction((tx) => pruneBankRecords(tx, now));
  // Real-time messages are kept a day: far longer than an approval request or an open app lives.
  const realtimeMessages = await pruneRealtimeMessages(database.db, new Date(now.getTime() - REALTIME_RETENTION_MS));
  const jobs = await pruneFinishedJobs(database.db, new Date(now.getTime() - jobRetentionMs));
  return { realtimeMessages, jobs };
}
