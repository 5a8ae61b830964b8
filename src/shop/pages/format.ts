// Dates as the shop's pages show them: UTC, to the minute for customers' pages and lists, to the
// second where staff compare events (payments, deliveries, webhook receipts).

/** "2026-03-04 05:06 UTC" (minute) or "2026-03-04 05:06:07 UTC" (second). */
export function formatWhen(d: Date, precision: 'minute' | 'second' = 'minute'): string {
  return `${d
    .toISOString()
    .replace('T', ' ')
    .slice(0, precision === 'minute' ? 16 : 19)} UTC`;
}
