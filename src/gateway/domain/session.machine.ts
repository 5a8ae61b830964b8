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
 *
 * While `authorized`, the shop's answer to payment.authorized is kept in the `acknowledgement` column
 * (null while awaited), a second machine of the same session:
 *
 *   awaiting ──acknowledge──▶ acknowledged   (2xx to the webhook, or POST …/acknowledge, before ack_deadline)
 *       ├─────refuse───────▶ refused        (409/422 to the webhook)
 *       └─────time_out─────▶ timed_out      (ack_deadline reached without a 2xx)
 *
 * Capture needs `acknowledged`; void needs `refused` or `timed_out`: the gateway captures only what the
 * shop accepted, and releases only what it did not.
 */
import { DomainError } from '../../core/errors.ts';
import { defineMachine, type TransitionResult } from '../../core/state-machine.ts';

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

export const ACKNOWLEDGEMENT_STATES = ['awaiting', 'acknowledged', 'refused', 'timed_out'] as const;
export type AcknowledgementState = (typeof ACKNOWLEDGEMENT_STATES)[number];
/** The stored acknowledgement: null while awaited. */
export type Acknowledgement = Exclude<AcknowledgementState, 'awaiting'>;

export const ACKNOWLEDGEMENT_EVENTS = ['acknowledge', 'refuse', 'time_out'] as const;
export type AcknowledgementEvent = (typeof ACKNOWLEDGEMENT_EVENTS)[number];

/** The acknowledgement machine: one answer, given once. */
export const acknowledgementMachine = defineMachine<AcknowledgementState, AcknowledgementEvent>({
  name: 'acknowledgement',
  states: ACKNOWLEDGEMENT_STATES,
  events: ACKNOWLEDGEMENT_EVENTS,
  transitions: {
    awaiting: { acknowledge: 'acknowledged', refuse: 'refused', time_out: 'timed_out' },
  },
});

/** What the machines need to know of a session. */
export interface SessionState {
  readonly status: SessionStatus;
  readonly acknowledgement: Acknowledgement | null;
  readonly ackDeadline: Date | null;
}

/** Whether an event is one of the acknowledgement machine's. */
export function isAcknowledgementEvent(event: SessionEvent | AcknowledgementEvent): event is AcknowledgementEvent {
  return (ACKNOWLEDGEMENT_EVENTS as readonly string[]).includes(event);
}

function illegal(s: SessionState, event: string, reason?: string): { ok: false; error: DomainError } {
  return {
    ok: false,
    error: new DomainError('state.illegal_transition', {
      status: s.status,
      acknowledgement: s.acknowledgement,
      event,
      ...(reason ? { reason } : {}),
    }),
  };
}

/**
 * Decides an acknowledgement event at `now`: legal only on an authorised session still awaiting its
 * answer, `acknowledge` only before the deadline, `time_out` only from it on.
 */
export function decideAcknowledgement(
  s: SessionState,
  event: AcknowledgementEvent,
  now: Date,
): TransitionResult<Acknowledgement> {
  if (s.status !== 'authorized') return illegal(s, event, 'not_authorized');
  const result = acknowledgementMachine.transition(s.acknowledgement ?? 'awaiting', event);
  if (!result.ok) return illegal(s, event, 'already_answered');
  const open = s.ackDeadline !== null && now.getTime() < s.ackDeadline.getTime();
  if (event === 'acknowledge' && !open) return illegal(s, event, 'window_passed');
  if (event === 'time_out' && (s.ackDeadline === null || open)) return illegal(s, event, 'window_open');
  return { ok: true, state: result.state as Acknowledgement, effects: result.effects };
}

/**
 * Decides a status event: the table, plus the acknowledgement rule on an authorised session
 * (capture only when acknowledged, void only when refused or timed out).
 */
export function decideSessionEvent(s: SessionState, event: SessionEvent): TransitionResult<SessionStatus> {
  const result = sessionMachine.transition(s.status, event);
  if (!result.ok) return result;
  if (event === 'capture' && s.acknowledgement !== 'acknowledged') return illegal(s, event, 'not_acknowledged');
  if (event === 'void' && s.acknowledgement !== 'refused' && s.acknowledgement !== 'timed_out')
    return illegal(s, event, 'not_refused');
  return result;
}
