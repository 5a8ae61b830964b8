// Fault injection, reproducible from a seed: each decision is a number in [0, 1) drawn from
// HMAC-SHA256(seed, counter), so a run with the same seed and the same order of operations injects
// the same faults. Off by default; a merchant switches it on through the admin API.
import { createHmac } from 'node:crypto';
import { z } from 'zod';

const rate = z.number().min(0).max(1).default(0);
const ms = z.number().int().min(0).max(600_000).default(0);

export const faultConfigSchema = z.object({
  webhooks: z
    .object({
      drop: rate.describe('share of delivery attempts not sent (counted as a failed attempt, retried)'),
      // A webhook lost for good (the endpoint unreachable through every retry): only the event feed
      // still has the event, which is what the shop's reconciliation exists for.
      drop_permanently: z
        .boolean()
        .default(false)
        .describe('a dropped delivery is given up at once instead of retried'),
      duplicate: rate.describe('share of deliveries sent more than once with the same webhook-id'),
      duplicate_copies: z
        .number()
        .int()
        .min(1)
        .max(9)
        .default(1)
        .describe('extra copies of a duplicated delivery: drawn from 1..duplicate_copies'),
      reorder: rate.describe('share of deliveries held back by up to reorder_window_ms so later events overtake them'),
      reorder_window_ms: ms,
      delay: rate.describe('share of deliveries delayed by delay_ms'),
      delay_ms: ms,
    })
    .default({
      drop: 0,
      drop_permanently: false,
      duplicate: 0,
      duplicate_copies: 1,
      reorder: 0,
      reorder_window_ms: 0,
      delay: 0,
      delay_ms: 0,
    }),
  api: z
    .object({
      fail: rate.describe('share of /v1 requests answered 503 before they run'),
      slow: rate.describe('share of /v1 requests delayed by slow_ms'),
      slow_ms: ms,
    })
    .default({ fail: 0, slow: 0, slow_ms: 0 }),
});

export type FaultConfig = z.infer<typeof faultConfigSchema>;

/** The draw of a seed at a label (e.g. "17:drop"): a number in [0, 1). */
export function draw(seed: string, label: string): number {
  const digest = createHmac('sha256', seed).update(label).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}
