/**
 * A refund, as one table. Every state and transition:
 *
 *   (request, amount above the threshold) -> awaiting_approval
 *   (request, otherwise)                   -> pending            queued for the gateway
 *   awaiting_approval --approve--> pending     a second, different staff member approved it
 *   awaiting_approval --reject-->  rejected    the approver declined it (the amount is released)
 *   pending   --submit-->  submitted   sent to the gateway (before the call; only a submitted refund may be matched to the gateway's news)
 *   pending, submitted --succeed--> succeeded   the gateway confirmed it (answer or webhook)
 *   pending, submitted --fail-->    failed      the gateway refused it (the amount is released)
 *   failed    --succeed--> succeeded   the gateway's webhook says it happened after all: the gateway is the truth
 *
 * rejected and succeeded are terminal.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const REFUND_STATUSES = [
  'awaiting_approval',
  'pending',
  'submitted',
  'succeeded',
  'failed',
  'rejected',
] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const REFUND_EVENTS = ['approve', 'reject', 'submit', 'succeed', 'fail'] as const;
export type RefundEvent = (typeof REFUND_EVENTS)[number];

/** The refund's state machine; the table is the whole truth. */
export const refundMachine = defineMachine<RefundStatus, RefundEvent>({
  name: 'refund',
  states: REFUND_STATUSES,
  events: REFUND_EVENTS,
  transitions: {
    awaiting_approval: { approve: 'pending', reject: 'rejected' },
    pending: { submit: 'submitted', succeed: 'succeeded', fail: 'failed' },
    submitted: { succeed: 'succeeded', fail: 'failed' },
    failed: { succeed: 'succeeded' },
  },
});

/** Statuses whose amount counts against what was captured (everything not released). */
export const RESERVING_STATUSES: readonly RefundStatus[] = ['awaiting_approval', 'pending', 'submitted', 'succeeded'];
