// The bank's durable jobs: approval expiry, the processing delay, callback delivery to the
// gateway, dispute deadlines, and (recurring) retention. Each is idempotent (jobs run at least once): decisions are
// no-ops once decided, a delivered callback is not sent again.
import { z } from 'zod';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { JobHandler } from '../../platform/jobs/jobs.ts';
import type { Logger } from '../../platform/log.ts';
import { deliverCallback, type CallbackTarget } from '../commands/deliver-callback.ts';
import { expireApproval } from '../commands/expire-approval.ts';
import { disputeDeadline } from '../commands/decide-dispute.ts';
import { finishProcessingDelay } from '../commands/finish-processing-delay.ts';
import { BANK_TASKS } from '../storage/bank-settings.ts';
import { pruneBank } from '../storage/prune.ts';

/** The bank's job handlers; `wake` lets a decision's callback go out without waiting for the next poll. */
export function bankTasks(deps: {
  database: Database;
  clock: Clock;
  callback: CallbackTarget;
  wake: () => void;
  /** Succeeded jobs are deleted this long after they finished (BANK_JOB_RETENTION_DAYS). */
  jobRetentionMs: number;
  log?: Logger;
}): Record<string, JobHandler> {
  const { database, clock } = deps;
  return {
    [BANK_TASKS.expireApproval]: async (payload) => {
      const { approvalId } = z.object({ approvalId: z.string() }).parse(payload);
      await database.transaction((tx) => expireApproval(tx, approvalId, clock));
      deps.wake();
    },
    [BANK_TASKS.processingDelay]: async (payload) => {
      const { authorizationId } = z.object({ authorizationId: z.string() }).parse(payload);
      await database.transaction((tx) => finishProcessingDelay(tx, authorizationId, clock));
      deps.wake();
    },
    [BANK_TASKS.deliverCallback]: async (payload) => {
      const { callbackId } = z.object({ callbackId: z.string() }).parse(payload);
      await deliverCallback(database, callbackId, deps.callback, clock);
    },
    [BANK_TASKS.disputeDeadline]: async (payload) => {
      const { disputeId } = z.object({ disputeId: z.string() }).parse(payload);
      await database.transaction((tx) => disputeDeadline(tx, disputeId, clock));
      deps.wake();
    },
    [BANK_TASKS.prune]: async () => {
      const pruned = await pruneBank(database, clock.now(), deps.jobRetentionMs);
      deps.log?.info({ pruned }, 'retention: old rows deleted');
    },
  };
}

/** The bank's recurring jobs. */
export const BANK_RECURRING = [{ task: BANK_TASKS.prune, everySeconds: 600 }] as const;
