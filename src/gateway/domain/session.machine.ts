/**
 * The payment session's life, as one table. One `status` column holds the state; every change goes
 * through `sessionMachine.transition`, so the table below is the whole truth.
 *
 *   created ──submit_card──▶ processing ──bank_approved──▶ authorized ──capture──▶ captured
 *      │                        │  │                          │                     │
 *      │                        │  └──bank_pending──▶ requires_approval            refund_partial ──▶ partially_refunded
 *      │                        │                       │ bank_approved ▶ authorized   refund_full ──▶ refunded
 *      │                        │                       │ bank_declined ▶ declined
 *      │                        ├──bank_declined──▶ declined
 *      │                        └──authorization_failed──▶ created   (gateway error, bank unreachable: try again)
 *      ├──expire──▶ expired                               authorized ──void──▶ voided
 *      └──cancel──▶ canceled                              (shop refused, or no acknowledgement in time)
 *
 * Expiry and cancellation apply only before a card is submitted: once the bank is asked, the
 * authorisation decides (an authorised payment the shop no longer wants is voided, not expired).
 */
import { defineMachine } from '../../core/state-machine.ts';

export const SESSION_STATES = [
  'created',
  'processing',
  'requires_approval',
  'authorized',
  'captured',
  'voided',
  'declined',
  'expired',
  'canceled',
  'partially_refunded',
  'refunded',
] as const;
export type SessionStatus = (typeof SESSION_STATES)[number];

export const SESSION_EVENTS = [
  'submit_card',
  'authorization_failed',
  'bank_pending',
  'bank_approved',
  'bank_declined',
  'capture',
  'void',
  'expire',
  'cancel',
  'refund_partial',
  'refund_full',
] as const;
export type SessionEvent = (typeof SESSION_EVENTS)[number];

/** The session machine; effects name the webhook event the caller writes to the outbox. */
export const sessionMachine = defineMachine<SessionStatus, SessionEvent>({
  name: 'payment_session',
  states: SESSION_STATES,
  events: SESSION_EVENTS,
  transitions: {
    created: {
      submit_card: 'processing',
      expire: { to: 'expired', effects: ['payment.expired'] },
      cancel: { to: 'canceled', effects: ['payment.canceled'] },
    },
    processing: {
      authorization_failed: 'created',
      bank_pending: { to: 'requires_approval', effects: ['payment.requires_approval'] },
      bank_approved: { to: 'authorized', effects: ['payment.authorized'] },
      bank_declined: { to: 'declined', effects: ['payment.declined'] },
    },
    requires_approval: {
      bank_approved: { to: 'authorized', effects: ['payment.authorized'] },
      bank_declined: { to: 'declined', effects: ['payment.declined'] },
    },
    authorized: {
      capture: { to: 'captured', effects: ['payment.captured'] },
      void: { to: 'voided', effects: ['payment.voided'] },
    },
    captured: {
      refund_partial: { to: 'partially_refunded', effects: ['payment.partially_refunded'] },
      refund_full: { to: 'refunded', effects: ['payment.refunded'] },
    },
    partially_refunded: {
      refund_partial: { to: 'partially_refunded', effects: ['payment.partially_refunded'] },
      refund_full: { to: 'refunded', effects: ['payment.refunded'] },
    },
  },
});

/** States in which the payer has been charged (money moved); used by the page and refunds. */
export const PAID_STATES: readonly SessionStatus[] = ['captured', 'partially_refunded', 'refunded'];

/** States after which nothing more happens to the session. */
export function isFinal(status: SessionStatus): boolean {
  return sessionMachine.isTerminal(status) || PAID_STATES.includes(status);
}
