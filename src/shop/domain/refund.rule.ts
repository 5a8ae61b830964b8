// The refund rules, pure: what a request becomes, and who may approve. The refund commands call them
// under the invoice's row lock, which is what makes the total hold under concurrent requests.
import { DomainError } from '../../core/errors.ts';
import { add, compare, isPositive, subtract, type Money } from '../../core/money.ts';
import type { InvoiceStatus } from './invoice.machine.ts';
import type { RefundStatus } from './refund.machine.ts';

/** Normalises a refund reason; throws refund.reason_required when empty or absurd. */
export function refundReason(raw: string | undefined): string {
  const reason = (raw ?? '').trim().replace(/\s+/g, ' ');
  if (reason.length < 3 || reason.length > 500) throw new DomainError('refund.reason_required', { min: 3, max: 500 });
  return reason;
}

/** What the customer is told a refund is for; staff choose one, their own reason stays internal. */
export const CUSTOMER_REFUND_REASONS = {
  returned: 'for the items you returned',
  damaged: 'for items that arrived damaged or faulty',
  missing: 'for items we could not deliver',
  delivery: 'for the delivery charge',
  goodwill: 'as a goodwill gesture',
  cancelled: 'because the order was cancelled',
  other: 'as agreed with our customer service',
} as const;
export type CustomerRefundReason = keyof typeof CUSTOMER_REFUND_REASONS;

/** The customer's refund reason code (absent: the neutral one); throws refund.reason_required for one not in the list. */
export function customerRefundReason(raw: string | undefined): CustomerRefundReason {
  if (raw === undefined) return 'other';
  if (Object.hasOwn(CUSTOMER_REFUND_REASONS, raw)) return raw as CustomerRefundReason;
  throw new DomainError('refund.reason_required', { field: 'customerReason' });
}

/** The customer-facing words for a stored code (an unknown code: the neutral text). */
export function customerRefundText(code: string): string {
  return Object.hasOwn(CUSTOMER_REFUND_REASONS, code)
    ? CUSTOMER_REFUND_REASONS[code as CustomerRefundReason]
    : CUSTOMER_REFUND_REASONS.other;
}

/** Decides a refund request: its first status, or why it is refused (never more than captured in all). */
export function decideRefundRequest(input: {
  invoiceStatus: InvoiceStatus;
  captured: Money;
  reserved: Money;
  requested: Money;
  approvalThresholdMinor: bigint;
}): { status: Extract<RefundStatus, 'awaiting_approval' | 'pending'>; remainingAfter: Money } {
  if (input.invoiceStatus !== 'paid')
    throw new DomainError('refund.not_allowed', { invoiceStatus: input.invoiceStatus });
  if (input.requested.currency !== input.captured.currency)
    throw new DomainError('money.currency_mismatch', {
      left: input.captured.currency,
      right: input.requested.currency,
    });
  if (!isPositive(input.requested)) throw new DomainError('money.invalid', { reason: 'refund_must_be_positive' });
  const after = add(input.reserved, input.requested);
  if (compare(after, input.captured) > 0) {
    throw new DomainError('refund.exceeds_captured', {
      captured: input.captured.minor.toString(),
      reserved: input.reserved.minor.toString(),
      requested: input.requested.minor.toString(),
    });
  }
  return {
    status: input.requested.minor > input.approvalThresholdMinor ? 'awaiting_approval' : 'pending',
    remainingAfter: subtract(input.captured, after),
  };
}

/** Throws unless this staff member may approve (or reject) a refund someone else requested. */
export function checkApprover(refund: { status: RefundStatus; requestedBy: string }, approverId: string): void {
  if (refund.status !== 'awaiting_approval')
    throw new DomainError('state.illegal_transition', { status: refund.status });
  if (refund.requestedBy === approverId) throw new DomainError('refund.approval_by_requester');
}

/** Default approval threshold: refunds above €100.00 need a second staff member. */
export const DEFAULT_REFUND_APPROVAL_THRESHOLD_MINOR = 10_000n;
