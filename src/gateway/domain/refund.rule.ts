// The refund rule: the refunds of a payment never add up to more than what was captured. Pure, so
// the storage layer calls it under the session's row lock, which is what makes it hold under
// concurrency too.
import { DomainError } from '../../core/errors.ts';
import { add, compare, isPositive, type Money } from '../../core/money.ts';
import { PAID_STATES, type SessionEvent, type SessionStatus } from './session.machine.ts';

/** Decides a refund: the machine event to apply (partial or full), or a DomainError. */
export function decideRefund(input: {
  status: SessionStatus;
  captured: Money;
  alreadyRefunded: Money;
  requested: Money;
  /** A dispute of the payment is open or was lost: the cardholder has the money back, or may. */
  disputed: boolean;
}): { event: Extract<SessionEvent, 'refund_partial' | 'refund_full'>; refundedAfter: Money } {
  if (!PAID_STATES.includes(input.status) || input.status === 'refunded') {
    throw new DomainError('refund.not_allowed', { status: input.status });
  }
  // A refund on top of a chargeback would pay the cardholder twice; a won dispute gave the money back.
  if (input.disputed) throw new DomainError('refund.charge_disputed', { status: input.status });
  if (input.requested.currency !== input.captured.currency) {
    throw new DomainError('money.currency_mismatch', {
      left: input.captured.currency,
      right: input.requested.currency,
    });
  }
  if (!isPositive(input.requested)) throw new DomainError('money.invalid', { reason: 'refund_must_be_positive' });
  const refundedAfter = add(input.alreadyRefunded, input.requested);
  const against = compare(refundedAfter, input.captured);
  if (against > 0) {
    throw new DomainError('refund.exceeds_captured', {
      captured: input.captured.minor.toString(),
      refunded: input.alreadyRefunded.minor.toString(),
      requested: input.requested.minor.toString(),
    });
  }
  return { event: against === 0 ? 'refund_full' : 'refund_partial', refundedAfter };
}
