// How the dashboard writes times and money (pure): "2 Dec 2026, 05:12 UTC" and an age ("3 min ago").
import { formatMoney, money, type Currency } from '../../core/money.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** "2 Dec 2026, 05:12 UTC" (with seconds: "05:12:09 UTC"). */
export function humanTime(at: Date, seconds = false): string {
  return `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}, ${two(at.getUTCHours())}:${two(at.getUTCMinutes())}${seconds ? `:${two(at.getUTCSeconds())}` : ''} UTC`;
}

/** "just now", "3 min ago", "2 h ago", "5 days ago", or "in 20 min" for a time ahead. */
export function age(at: Date, now: Date): string {
  const s = Math.round((now.getTime() - at.getTime()) / 1000);
  const a = Math.abs(s);
  const span =
    a < 45
      ? null
      : a < 3600
        ? `${Math.round(a / 60)} min`
        : a < 86400
          ? `${Math.round(a / 3600)} h`
          : `${Math.round(a / 86400)} days`;
  if (span === null) return 'just now';
  return s >= 0 ? `${span} ago` : `in ${span}`;
}

/** An amount in minor units with its currency, as people read it. */
export function money$(minor: bigint, currency: string): string {
  return formatMoney(money(minor, currency as Currency));
}

/** "2 s", "1 h", "24 h": an overlap or window in seconds. */
export function duration(seconds: number): string {
  if (seconds === 0) return 'now';
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
