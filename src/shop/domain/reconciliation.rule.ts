/**
 * Comparing one payment attempt as the shop keeps it with its session as the gateway reports it: the
 * two differences an operator must see (`countersign reconcile`).
 *
 *   paid_here_not_there   the invoice is paid here by this attempt, but the gateway did not capture
 *                         it: voided, expired, declined, refunded, unknown, or still only authorised
 *                         longer than the grace period after the shop accepted it
 *   paid_there_not_here   the gateway captured or authorised the session, but this attempt did not
 *                         pay the invoice here (the shop never heard, or the invoice is expired,
 *                         cancelled, reversed or paid by another attempt: money taken twice)
 *
 * Transitions in flight are not differences: an authorisation the shop accepted that the gateway is
 * about to capture, or one the shop refused that it is about to void, within the grace period.
 * Pure: the clock is passed in.
 */
import type { AttemptStatus } from './attempt.machine.ts';
import type { SessionState } from './gateway.port.ts';
import type { InvoiceStatus } from './invoice.machine.ts';

export type ReconciliationKind = 'paid_here_not_there' | 'paid_there_not_here';

/** How long a capture or a void may take at the gateway before its absence is a difference. */
export const RECONCILIATION_GRACE_SECONDS = 300;

/** The shop's side of one attempt. */
export interface ShopSide {
  readonly invoiceStatus: InvoiceStatus;
  readonly attemptStatus: AttemptStatus;
  /** When the attempt last changed (the grace period runs from it). */
  readonly attemptUpdatedAt: Date;
}

/** The gateway's side: the session's state, or `unknown` when the gateway does not know the session. */
export type GatewaySide = SessionState | 'unknown';

/** A difference and why, or null when both sides agree (or a transition is still in flight). */
export interface Difference {
  readonly kind: ReconciliationKind;
  readonly why: string;
}

const ACCEPTED: readonly AttemptStatus[] = ['paid', 'captured'];
const OPEN: readonly AttemptStatus[] = ['session_created', 'pending'];
const PAID_HERE: readonly InvoiceStatus[] = ['paid', 'disputed', 'dispute_lost'];

/** Compares one attempt's two sides at `now`. */
export function compareAttempt(shop: ShopSide, gateway: GatewaySide, now: Date): Difference | null {
  const inGrace = now.getTime() - shop.attemptUpdatedAt.getTime() < RECONCILIATION_GRACE_SECONDS * 1000;
  // A disputed payment (or one whose dispute was lost) was paid here; the dispute is followed apart.
  const paysHere = ACCEPTED.includes(shop.attemptStatus) && PAID_HERE.includes(shop.invoiceStatus);
  if (paysHere) {
    if (gateway === 'captured' || (gateway === 'authorized' && inGrace)) return null;
    return {
      kind: 'paid_here_not_there',
      why:
        gateway === 'unknown'
          ? 'the invoice is paid here, but the gateway does not know this session'
          : gateway === 'authorized'
            ? `the invoice is paid here, but the gateway has only authorised it for more than ${RECONCILIATION_GRACE_SECONDS / 60} minutes`
            : `the invoice is paid here, but the gateway says ${gateway}`,
    };
  }
  if (gateway !== 'captured' && gateway !== 'authorized') return null;
  // Refused here and being voided there, or a fully refunded invoice: nothing to do while in grace.
  if (gateway === 'authorized' && !OPEN.includes(shop.attemptStatus) && inGrace) return null;
  if (shop.invoiceStatus === 'refunded' && ACCEPTED.includes(shop.attemptStatus)) return null;
  const state = gateway === 'captured' ? 'captured' : 'authorised';
  return {
    kind: 'paid_there_not_here',
    why: OPEN.includes(shop.attemptStatus)
      ? `the gateway ${state} it, but the shop has not heard (attempt ${shop.attemptStatus}, invoice ${shop.invoiceStatus})`
      : shop.invoiceStatus === 'paid'
        ? `the gateway ${state} it, but the invoice was paid by another attempt (this one is ${shop.attemptStatus})`
        : `the gateway ${state} it, but the invoice is ${shop.invoiceStatus} here (attempt ${shop.attemptStatus})`,
  };
}

/** Whether the shop can still take this attempt's news through its usual path (a status read applied like a webhook). */
export function fixableByStatusRead(shop: Pick<ShopSide, 'attemptStatus'>): boolean {
  return OPEN.includes(shop.attemptStatus);
}
