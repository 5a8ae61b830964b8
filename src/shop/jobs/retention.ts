// The shop's retention job: history that only grows is deleted after its retention, in bounded
// batches (each statement commits on its own): real-time messages after a day (the invoice page joins
// without a cursor and re-reads its state on every connect, so it never needs an old message),
// verified webhook receipts after SHOP_WEBHOOK_RECEIPT_RETENTION_DAYS (staff's record; the dedupe of
// gateway events is gateway_events, never pruned) and succeeded jobs after SHOP_JOB_RETENTION_DAYS.
// The refused-delivery record has its own job (storage/webhook-refusals.ts).
import type { Executor } from '../../platform/db/database.ts';
import { parseEnv, positiveInt } from '../../platform/config.ts';
import { DEFAULT_JOB_RETENTION_DAYS, pruneFinishedJobs } from '../../platform/jobs/prune.ts';
import { pruneRealtimeMessages, REALTIME_RETENTION_MS } from '../../platform/realtime/index.ts';
import { pruneReceipts } from '../storage/payments.ts';

export const RETENTION_PRUNE_TASK = 'shop.retention.prune';
export const RETENTION_PRUNE_EVERY_SECONDS = 15 * 60;
const DAY_MS = 86_400_000;

/** How long the shop keeps history (SHOP_JOB_RETENTION_DAYS, SHOP_WEBHOOK_RECEIPT_RETENTION_DAYS). */
export interface RetentionConfig {
  /** Days a succeeded job is kept (failed, pending and recurring jobs are never deleted). */
  readonly jobDays: number;
  /** Days a verified webhook delivery stays on /staff/payments and the staff order page. */
  readonly webhookReceiptDays: number;
}

export const DEFAULT_RETENTION: RetentionConfig = Object.freeze({
  jobDays: DEFAULT_JOB_RETENTION_DAYS,
  webhookReceiptDays: 30,
});

/** Parses SHOP_JOB_RETENTION_DAYS (default 7) and SHOP_WEBHOOK_RECEIPT_RETENTION_DAYS (default 30). */
export function loadRetentionConfig(env: Record<string, string | undefined> = process.env): RetentionConfig {
  const raw = parseEnv(
    'shop',
    {
      SHOP_JOB_RETENTION_DAYS: positiveInt(DEFAULT_RETENTION.jobDays),
      SHOP_WEBHOOK_RECEIPT_RETENTION_DAYS: positiveInt(DEFAULT_RETENTION.webhookReceiptDays),
    },
    env,
  );
  return Object.freeze({
    jobDays: raw.SHOP_JOB_RETENTION_DAYS,
    webhookReceiptDays: raw.SHOP_WEBHOOK_RECEIPT_RETENTION_DAYS,
  });
}

/** What one retention run deleted. */
export interface ShopPruned {
  readonly realtimeMessages: number;
  readonly webhookReceipts: number;
  readonly jobs: number;
}

/** One retention run at `now`: every table past its retention, each in bounded batches. */
export async function pruneShopRecords(db: Executor, now: Date, retention: RetentionConfig): Promise<ShopPruned> {
  const ago = (ms: number) => new Date(now.getTime() - ms);
  return {
    realtimeMessages: await pruneRealtimeMessages(db, ago(REALTIME_RETENTION_MS)),
    webhookReceipts: await pruneReceipts(db, ago(retention.webhookReceiptDays * DAY_MS)),
    jobs: await pruneFinishedJobs(db, ago(retention.jobDays * DAY_MS)),
  };
}
