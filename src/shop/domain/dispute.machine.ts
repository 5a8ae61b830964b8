/**
 * A dispute (chargeback) of a captured payment, as the shop keeps it beside the order: the gateway's
 * status mirrored, moved only forward. Every state and transition:
 *
 *   needs_response --review--> under_review   evidence was submitted (by staff here, or news of it)
 *   needs_response --win-->    won            the cardholder withdrew the dispute
 *   needs_response --lose-->   lost           staff accepted it, or the deadline passed without evidence
 *   under_review   --win-->    won            the card issuer decided for the shop
 *   under_review   --lose-->   lost           the card issuer decided for the cardholder
 *
 * won and lost are terminal. News that would move a dispute backwards (an `updated` overtaken by its
 * `closed`) changes nothing.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const DISPUTE_STATUSES = ['needs_response', 'under_review', 'won', 'lost'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

export const DISPUTE_EVENTS = ['review', 'win', 'lose'] as const;
export type DisputeEvent = (typeof DISPUTE_EVENTS)[number];

/** The dispute's state machine. */
export const disputeMachine = defineMachine<DisputeStatus, DisputeEvent>({
  name: 'dispute',
  states: DISPUTE_STATUSES,
  events: DISPUTE_EVENTS,
  transitions: {
    needs_response: { review: 'under_review', win: 'won', lose: 'lost' },
    under_review: { win: 'won', lose: 'lost' },
  },
});

/** The reasons a cardholder may give (Stripe's names). */
export const DISPUTE_REASONS = [
  'fraudulent',
  'product_not_received',
  'product_unacceptable',
  'duplicate',
  'subscription_canceled',
  'credit_not_processed',
  'general',
] as const;

/** The event that takes a dispute to the gateway's status, or undefined when there is none (same or backwards). */
export function disputeEventTo(current: DisputeStatus, target: DisputeStatus): DisputeEvent | undefined {
  const event: Record<DisputeStatus, DisputeEvent | undefined> = {
    needs_response: undefined,
    under_review: 'review',
    won: 'win',
    lost: 'lose',
  };
  const e = event[target];
  return e && disputeMachine.can(current, e) ? e : undefined;
}

/** Whether staff can still answer the dispute (submit evidence or accept). */
export function isOpenForResponse(status: DisputeStatus): boolean {
  return status === 'needs_response';
}

/** The time left to answer, in words ("2 days 3 h left", "5 h 10 min left", "overdue by 1 h 2 min"). */
export function timeLeft(dueBy: Date, now: Date): string {
  const ms = dueBy.getTime() - now.getTime();
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86_400_000);
  const hours = Math.floor((abs % 86_400_000) / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const span = days > 0 ? `${days} day${days === 1 ? '' : 's'} ${hours} h` : `${hours} h ${minutes} min`;
  return ms >= 0 ? `${span} left` : `overdue by ${span}`;
}
