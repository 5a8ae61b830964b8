/**
 * The shop's one job worker: every task the shop enqueues and every recurring job — invoice expiry,
 * reconciliation with the gateway, gateway session cancellations, captures and refusals (a gateway
 * that takes verdicts as calls), pruning of refused webhook records, retention of history (jobs/retention.ts),
 * plus the tasks main.ts passes in (integrations, refunds, accounts, audit checkpoints). ONE worker
 * per shop process must know every task, or it fails the unknown ones.
 */
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createWorker, type JobHandler, type RecurringJob, type Worker } from '../../platform/jobs/jobs.ts';
import type { Logger } from '../../platform/log.ts';
import { CANCEL_SESSION_TASK, expireInvoices } from '../commands/expire-invoice.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';
import {
  pruneRefusals,
  REFUSAL_PRUNE_EVERY_SECONDS,
  REFUSAL_PRUNE_TASK,
  type RefusalLimits,
} from '../storage/webhook-refusals.ts';
import { CAPTURE_SESSION_TASK, REFUSE_SESSION_TASK } from '../commands/verdict-calls.ts';
import {
  DEFAULT_RETENTION,
  pruneShopRecords,
  RETENTION_PRUNE_EVERY_SECONDS,
  RETENTION_PRUNE_TASK,
  type RetentionConfig,
} from './retention.ts';
import {
  cancelGatewaySession,
  captureGatewaySession,
  RECONCILE_TASK,
  reconcileOnce,
  refuseGatewaySession,
} from './reconcile.ts';

export const EXPIRY_TASK = 'shop.invoice.expire';

/** The worker's timing (parsed in main.ts from SHOP_*). */
export interface WorkerTiming {
  readonly reconcileEverySeconds: number;
  readonly reconcilePendingAgeSeconds: number;
  readonly expiryEverySeconds: number;
  readonly jobPollMs: number;
  /** A claimed job's lease: after a node dies, its jobs wait this long before another node takes them. */
  readonly jobLeaseSeconds?: number | undefined;
}

/**
 * Jobs a shop process runs at a time (a mail send holds one SMTP connection: mail/send.ts). Each paid
 * order owes a receipt, whose job waits on the database, the gateway (the card) and SMTP: at two, the
 * receipts fell behind the payments under the bench's load (22 paid orders/s on 2 cores: 13 receipts/s
 * sent, 293 waiting after 30 s, p50 6.9 s from payment to sent); at six they keep pace (8 waiting,
 * p50 0.33 s, p99 0.84 s). bench/README.md, "Receipts in the window".
 */
export const SHOP_JOB_CONCURRENCY = 6;

/** Creates the shop's worker; nothing runs until its start(). Without a gateway there is nothing to reconcile or cancel. */
export function createShopWorker(input: {
  database: Database;
  clock: Clock;
  log: Logger;
  timing: WorkerTiming;
  gateway: GatewayPort | undefined;
  refusalLimits: RefusalLimits;
  retention?: RetentionConfig;
  tasks?: Readonly<Record<string, JobHandler>>;
  recurring?: readonly RecurringJob[];
}): Worker {
  const { database, clock, log, timing, gateway } = input;
  const deps = gateway ? { database, clock, gateway } : undefined;
  const worker: Worker = createWorker({
    database,
    clock,
    log,
    concurrency: SHOP_JOB_CONCURRENCY,
    pollIntervalMs: timing.jobPollMs,
    ...(timing.jobLeaseSeconds ? { leaseSeconds: timing.jobLeaseSeconds } : {}),
    recurring: [
      { task: EXPIRY_TASK, everySeconds: timing.expiryEverySeconds },
      { task: REFUSAL_PRUNE_TASK, everySeconds: REFUSAL_PRUNE_EVERY_SECONDS },
      { task: RETENTION_PRUNE_TASK, everySeconds: RETENTION_PRUNE_EVERY_SECONDS },
      ...(deps ? [{ task: RECONCILE_TASK, everySeconds: timing.reconcileEverySeconds }] : []),
      ...(input.recurring ?? []),
    ],
    tasks: {
      ...input.tasks,
      [EXPIRY_TASK]: async () => {
        const expired = await expireInvoices({ database, clock });
        if (expired.length) worker.wake();
      },
      [REFUSAL_PRUNE_TASK]: async () => {
        const pruned = await pruneRefusals(database.db, clock.now(), input.refusalLimits);
        if (pruned.counters + pruned.samples > 0) log.info({ pruned }, 'retention: refused-delivery records deleted');
      },
      [RETENTION_PRUNE_TASK]: async () => {
        const pruned = await pruneShopRecords(database.db, clock.now(), input.retention ?? DEFAULT_RETENTION);
        log.info({ pruned }, 'retention: old rows deleted');
      },
      [RECONCILE_TASK]: async () => {
        if (!deps) return;
        await reconcileOnce(deps, { pendingAgeSeconds: timing.reconcilePendingAgeSeconds });
      },
      [CANCEL_SESSION_TASK]: async (payload) => {
        if (!deps) return;
        await cancelGatewaySession(deps, payload);
      },
      [CAPTURE_SESSION_TASK]: async (payload) => {
        if (!deps) return;
        await captureGatewaySession(deps, payload);
      },
      [REFUSE_SESSION_TASK]: async (payload) => {
        if (!deps) return;
        await refuseGatewaySession(deps, payload);
      },
    },
  });
  return worker;
}
