/**
 * A payment attempt (one "Pay now" that reached the gateway), as one table. Every state and transition:
 *
 *   created          --session_created--> session_created   the gateway made a hosted session
 *   created          --session_failed-->  failed            the gateway could not be reached or refused
 *   session_created  --pending-->         pending           the payer submitted a card (bank deciding)
 *   session_created, pending --accept-->  paid              authorised, and the shop accepted it (invoice paid)
 *   session_created, pending --refuse-->  refused           authorised, but the shop refused (the gateway voids)
 *   session_created, pending --decline--> declined          the bank declined; the payer may try again (new attempt)
 *   session_created, pending --expire-->  expired           the session expired or was cancelled unpaid
 *   session_created, pending --void-->    voided            voided before the shop saw the authorisation
 *   paid             --capture-->         captured          the gateway captured what the shop accepted
 *   paid             --void-->            voided            voided after the shop accepted: the invoice is reversed (a finding for staff)
 *   paid, captured   --refund-->          refunded          refunded in full
 *
 * failed, refused, declined, expired, voided and refunded are terminal. An event not in the table
 * (e.g. `voided` after `refused`) changes nothing and is recorded as ignored.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const ATTEMPT_STATUSES = [
  'created',
  'session_created',
  'pending',
  'paid',
  'captured',
  'refused',
  'declined',
  'expired',
  'voided',
  'refunded',
  'failed',
] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export const ATTEMPT_EVENTS = [
  'session_created',
  'session_failed',
  'pending',
  'accept',
  'refuse',
  'decline',
  'expire',
  'void',
  'capture',
  'refund',
] as const;
export type AttemptEvent = (typeof ATTEMPT_EVENTS)[number];

const open = {
  pending: 'pending',
  accept: 'paid',
  refuse: 'refused',
  decline: 'declined',
  expire: 'expired',
  void: 'voided',
} as const;

/** The payment attempt's state machine; the table is the whole truth. */
export const attemptMachine = defineMachine<AttemptStatus, AttemptEvent>({
  name: 'payment_attempt',
  states: ATTEMPT_STATUSES,
  events: ATTEMPT_EVENTS,
  transitions: {
    created: { session_created: 'session_created', session_failed: 'failed' },
    session_created: open,
    pending: { accept: 'paid', refuse: 'refused', decline: 'declined', expire: 'expired', void: 'voided' },
    paid: { capture: 'captured', void: 'voided', refund: 'refunded' },
    captured: { refund: 'refunded' },
  },
});

/** Whether an attempt's hosted page may still be offered to the payer (reused by "Pay now"). */
export function isPayable(status: AttemptStatus): boolean {
  return status === 'session_created' || status === 'pending';
}
