// Formatting for the shop's pages: how a moment is shown, in one place.

/** A moment as `YYYY-MM-DD HH:MM UTC` (to the minute), or to the second for logs and audit trails. */
export function when(d: Date, precision: 'minute' | 'second' = 'minute'): string {
  return d.toISOString().replace('T', ' ').slice(0, precision === 'second' ? 19 : 16) + ' UTC';
}
