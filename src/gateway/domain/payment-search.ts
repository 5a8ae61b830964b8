// What a merchant types in the dashboard's payment search and filters (pure): a session, Checkout
// Session, PaymentIntent or charge id finds that payment; an amount ("12.50", "12,50", "12") finds
// payments of that amount (in major units of a two-decimal currency); any text matches the merchant
// reference. Filters a form cannot have produced are dropped, never an error. Paging is by keyset:
// the cursor is the (created_at, id) of the last row shown.
import { SESSION_STATES, type SessionStatus } from './session.machine.ts';

export interface PaymentQuery {
  readonly text: string;
  readonly sessionId: string | null;
  readonly amountMinor: bigint | null;
  readonly status: SessionStatus | null;
  /** Inclusive UTC days, as YYYY-MM-DD. */
  readonly from: Date | null;
  readonly to: Date | null;
  readonly after: { createdAt: Date; id: string } | null;
}

const ID = /^(ps|cs|pi|ch)_([0-9A-Z]{26})$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function day(value: string | undefined, end: boolean): Date | null {
  const m = value ? DAY.exec(value) : null;
  if (!m) return null;
  const [y, mo, da] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const d = new Date(Date.UTC(y, mo, da));
  // Date.UTC rolls 2026-13-45 over into 2027: a day that is not on the calendar is no filter.
  if (d.getUTCFullYear() !== y || d.getUTCMonth() !== mo || d.getUTCDate() !== da) return null;
  return end ? new Date(d.getTime() + 86_400_000) : d;
}

/** The query of the payments page's parameters (q, status, from, to, after). */
export function parsePaymentQuery(params: Record<string, string | undefined>): PaymentQuery {
  const text = (params.q ?? '').trim().slice(0, 200);
  const id = ID.exec(text);
  const amount = /^(\d{1,12})(?:[.,](\d{1,2}))?$/.exec(text);
  const status = (SESSION_STATES as readonly string[]).includes(params.status ?? '')
    ? (params.status as SessionStatus)
    : null;
  return {
    text,
    sessionId: id ? `ps_${id[2]}` : null,
    amountMinor: amount ? BigInt(amount[1]!) * 100n + BigInt((amount[2] ?? '').padEnd(2, '0')) : null,
    status,
    from: day(params.from, false),
    to: day(params.to, true),
    after: decodeCursor(params.after),
  };
}

/** The cursor of a row: its creation time in ms and its id. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return `${row.createdAt.getTime()}.${row.id}`;
}

function decodeCursor(value: string | undefined): { createdAt: Date; id: string } | null {
  const m = value ? /^(\d{1,15})\.(ps_[0-9A-Z]{26})$/.exec(value) : null;
  return m ? { createdAt: new Date(Number(m[1])), id: m[2]! } : null;
}
