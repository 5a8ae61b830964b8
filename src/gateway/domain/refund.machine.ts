/**
 * A refund's life (column `refunds.status`): recorded `pending` with the amount reserved on the
 * session, then `succeeded` once the bank has returned the money.
 *
 *   pending ──bank_refunded──▶ succeeded
 */
import { defineMachine } from '../../core/state-machine.ts';

export const REFUND_STATES = ['pending', 'succeeded'] as const;
export type RefundStatus = (typeof REFUND_STATES)[number];

export const REFUND_EVENTS = ['bank_refunded'] as const;
export type RefundEvent = (typeof REFUND_EVENTS)[number];

/** The refund machine. */
export const refundMachine = defineMachine<RefundStatus, RefundEvent>({
  name: 'refund',
  states: REFUND_STATES,
  events: REFUND_EVENTS,
  transitions: { pending: { bank_refunded: 'succeeded' } },
});
