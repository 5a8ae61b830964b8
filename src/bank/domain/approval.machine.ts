/**
 * A request to the cardholder's bank app to approve one authorisation. One `status` column.
 *
 *   pending --approve--> approved     the cardholder tapped Approve before it expired
 *   pending --decline--> declined     the cardholder tapped Decline before it expired
 *   pending --expire---> expired      nobody answered in time (the authorisation is declined)
 *   pending --cancel---> cancelled    the gateway voided the authorisation first
 *
 * Every state but pending is final: a request cannot be answered twice.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const APPROVAL_STATUSES = ['pending', 'approved', 'declined', 'expired', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type ApprovalEvent = 'approve' | 'decline' | 'expire' | 'cancel';

/** The approval request's lifecycle. */
export const approvalMachine = defineMachine<ApprovalStatus, ApprovalEvent>({
  name: 'approval_request',
  states: APPROVAL_STATUSES,
  transitions: {
    pending: { approve: 'approved', decline: 'declined', expire: 'expired', cancel: 'cancelled' },
  },
});

/** Whether an answer given at `now` is too late; the deadline itself is already too late. */
export function isApprovalExpired(expiresAt: Date, now: Date): boolean {
  return now.getTime() >= expiresAt.getTime();
}
