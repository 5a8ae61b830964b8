// When a failed webhook delivery is tried again. The schedule is documented in the README and the
// OpenAPI description; jitter (±20 %) spreads retries so that a recovering shop is not hit by every
// delivery at the same second.

/** Delay before attempt n+1 after attempt n failed (n from 1), in seconds, before jitter. */
export const WEBHOOK_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  5,
  30,
  120,
  600,
  1800,
  3600,
  3 * 3600,
  6 * 3600,
  12 * 3600,
  24 * 3600,
];

/** Attempts in total, the first included. */
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_SCHEDULE_SECONDS.length + 1;

/** The delay in ms before the next attempt, or null when the schedule is exhausted. */
export function nextRetryDelayMs(attemptsMade: number, random: () => number = Math.random): number | null {
  const base = WEBHOOK_RETRY_SCHEDULE_SECONDS[attemptsMade - 1];
  if (base === undefined) return null;
  const jitter = 0.8 + 0.4 * random();
  return Math.round(base * 1000 * jitter);
}

/** What a merchant's answer to a delivery means. */
export type DeliveryVerdict = 'delivered' | 'refused' | 'gone' | 'retry';

/** Classifies an HTTP answer (null: no answer, e.g. timeout or connection refused). */
export function classifyAnswer(status: number | null, isAcknowledgementRequest: boolean): DeliveryVerdict {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  // Only the authorisation's delivery asks a question the shop can answer with no.
  if (isAcknowledgementRequest && (status === 409 || status === 422)) return 'refused';
  return 'retry';
}
