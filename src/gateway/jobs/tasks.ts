// The gateway's background tasks: each runs one command. Registered with the worker in main.ts.
import type { JobHandler } from '../../platform/jobs/worker.ts';
import type { RecurringJob } from '../../platform/jobs/register-recurring.ts';
import { pruneFinishedJobs } from '../../platform/jobs/prune.ts';
import { pruneRealtimeMessages, REALTIME_RETENTION_MS } from '../../platform/realtime/index.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { expireSessions } from '../commands/expire-sessions.ts';
import { pollPending } from '../commands/poll-pending.ts';
import { recoverInterrupted } from '../commands/recover-interrupted.ts';
import { refundAtBank } from '../commands/refund-at-bank.ts';
import { settleSession } from '../commands/settle-session.ts';
import { retryUnsettled, voidUnacknowledged } from '../commands/void-unacknowledged.ts';
import { pruneIdempotencyKeys } from '../storage/idempotency.ts';
import { pruneFailures } from '../storage/dashboard-users.ts';
import { pruneSignedRequests } from '../storage/signed-requests.ts';
import { forwardDispute } from '../commands/forward-dispute.ts';
import { runPayouts } from '../commands/create-payouts.ts';
import { sendPayout } from '../commands/send-payout.ts';
import {
  FORWARD_DISPUTE_TASK,
  PAYOUTS_TASK,
  REFUND_AT_BANK_TASK,
  SEND_PAYOUT_TASK,
  SETTLE_TASK,
} from './task-names.ts';

/** The recurring sweeps and how often they run. */
export const GATEWAY_RECURRING: readonly RecurringJob[] = [
  { task: 'gateway.void_unacknowledged', everySeconds: 1 },
  { task: 'gateway.expire_sessions', everySeconds: 5 },
  { task: 'gateway.poll_pending', everySeconds: 5 },
  { task: 'gateway.prune_idempotency_keys', everySeconds: 3600 },
  { task: 'gateway.prune_finished_jobs', everySeconds: 3600 },
];

/** The recurring sweeps, with the payout run every `payoutIntervalSeconds` (GATEWAY_PAYOUT_INTERVAL). */
export function gatewayRecurring(payoutIntervalSeconds: number): readonly RecurringJob[] {
  return [...GATEWAY_RECURRING, { task: PAYOUTS_TASK, everySeconds: payoutIntervalSeconds }];
}

/** The handlers of the gateway's tasks (webhook delivery aside: jobs/deliver-webhook.ts). */
export function gatewayTasks(
  gateway: GatewayDeps,
  options: { interruptedAfterMs: number; idempotencyRetentionMs: number; jobRetentionMs: number },
): Record<string, JobHandler> {
  const { database, clock } = gateway;
  return {
    [SETTLE_TASK]: async (p) => {
      await settleSession(gateway, (p as { sessionId: string }).sessionId);
    },
    [REFUND_AT_BANK_TASK]: async (p) => {
      await refundAtBank(gateway, (p as { refundId: string }).refundId);
    },
    [FORWARD_DISPUTE_TASK]: async (p) => {
      await forwardDispute(gateway, (p as { disputeId: string }).disputeId);
    },
    'gateway.void_unacknowledged': async () => {
      await voidUnacknowledged(gateway);
      await retryUnsettled(gateway);
    },
    'gateway.expire_sessions': async () => {
      await expireSessions(gateway);
      await recoverInterrupted(gateway, options.interruptedAfterMs);
    },
    [SEND_PAYOUT_TASK]: async (p) => {
      await sendPayout(gateway, (p as { payoutId: string }).payoutId);
    },
    [PAYOUTS_TASK]: async () => {
      await runPayouts(gateway);
    },
    'gateway.poll_pending': async () => {
      await pollPending(gateway);
    },
    'gateway.prune_idempotency_keys': async () => {
      await pruneIdempotencyKeys(database.db, new Date(clock.now().getTime() - options.idempotencyRetentionMs));
      // The same hourly sweep of rows that only guard a time window.
      await pruneSignedRequests(database.db, clock.now());
      // Failed dashboard logins count for a quarter of an hour; a day is kept for the record.
      await pruneFailures(database.db, new Date(clock.now().getTime() - 86_400_000));
    },
    // Succeeded jobs after GATEWAY_JOB_RETENTION_DAYS, in bounded batches; and real-time messages
    // after a day (the gateway publishes none today: its feeds ring an event bell instead).
    'gateway.prune_finished_jobs': async () => {
      const now = clock.now().getTime();
      const jobs = await pruneFinishedJobs(database.db, new Date(now - options.jobRetentionMs));
      const realtimeMessages = await pruneRealtimeMessages(database.db, new Date(now - REALTIME_RETENTION_MS));
      gateway.log?.info({ pruned: { jobs, realtimeMessages } }, 'retention: old rows deleted');
    },
  };
}
