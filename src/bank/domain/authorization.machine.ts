/**
 * An authorisation at the issuer, from the gateway's request to its end. One `status` column.
 *
 *   pending   --approve-->  approved    cardholder approved in the app, or the processing delay elapsed
 *   pending   --decline-->  declined    cardholder declined, or the approval request expired (hold released)
 *   pending   --void----->  voided      the gateway gave up while the bank was still deciding (hold released)
 *   approved  --capture-->  captured    the hold becomes a debit movement
 *   approved  --void----->  voided      hold released
 *   captured  --refund--->  refunded    a credit movement; more refunds allowed while their sum ≤ captured
 *   refunded  --refund--->  refunded
 *
 * An authorisation decided at once is born approved or declined. declined and voided are final.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const AUTHORIZATION_STATUSES = ['pending', 'approved', 'declined', 'captured', 'voided', 'refunded'] as const;
export type AuthorizationStatus = (typeof AUTHORIZATION_STATUSES)[number];
export type AuthorizationEvent = 'approve' | 'decline' | 'void' | 'capture' | 'refund';

/** Why the issuer declined; the gateway shows these to the payer. */
export const DECLINE_REASONS = [
  'insufficient_funds',
  'card_declined',
  'invalid_cvc',
  'expired_card',
  'unknown_card',
  'approval_declined',
  'approval_expired',
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** The authorisation's lifecycle at the bank. */
export const authorizationMachine = defineMachine<AuthorizationStatus, AuthorizationEvent>({
  name: 'bank_authorization',
  states: AUTHORIZATION_STATUSES,
  transitions: {
    pending: { approve: 'approved', decline: 'declined', void: 'voided' },
    approved: { capture: 'captured', void: 'voided' },
    captured: { refund: 'refunded' },
    refunded: { refund: 'refunded' },
  },
});
