// What the customer reads: statuses and payment outcomes in words, and the numbers customers use
// (order 12, invoice 12-2) instead of the internal ids.
import type { AttemptRow } from '../storage/payments.ts';

/** "12": the order number customers see. */
export function orderLabel(order: { number: number }): string {
  return `Order ${order.number}`;
}

/** "12-2": the order's number and the invoice's place among the order's invoices (1 for the first). */
export function invoiceNumber(orderNumber: number, position: number): string {
  return `${orderNumber}-${position}`;
}

const DECLINES: Record<string, string> = {
  insufficient_funds: 'there were not enough funds on the card',
  card_declined: 'the bank declined the card',
  invalid_cvc: 'the security code was wrong',
  expired_card: 'the card has expired',
  approval_declined: 'the payment was declined in your bank app',
  approval_expired: 'the approval request in your bank app timed out',
};

/** One attempt's status as the attempts table shows it. */
export const ATTEMPT_WORDS: Record<string, string> = {
  created: 'starting',
  session_created: 'payment page opened',
  pending: 'your bank is deciding',
  paid: 'paid',
  captured: 'paid',
  refused: 'not accepted, released',
  declined: 'declined',
  expired: 'closed unpaid',
  voided: 'released, not charged',
  refunded: 'refunded',
  failed: 'could not start',
};

/** What happened to the latest payment attempt of an open invoice, and what to do next; undefined when nothing did. */
export function attemptOutcome(a: AttemptRow | undefined): { kind: 'busy' | 'bad'; text: string } | undefined {
  if (!a) return undefined;
  switch (a.status) {
    case 'pending':
      return {
        kind: 'busy',
        text: 'Your bank is deciding about your payment. You need do nothing: this page updates by itself.',
      };
    case 'declined': {
      const why = a.reason && DECLINES[a.reason] ? `: ${DECLINES[a.reason]}` : '';
      return {
        kind: 'bad',
        text: `Your last payment was declined${why}. You were not charged. Press "Pay now" to try again, with another card if needed.`,
      };
    }
    case 'expired':
      return {
        kind: 'bad',
        text: 'Your last payment page was closed before a card was accepted. You were not charged. Press "Pay now" to try again.',
      };
    case 'refused':
    case 'voided':
      return {
        kind: 'bad',
        text: 'The shop could not accept your last payment; the amount was released and you were not charged. Press "Pay now" to try again.',
      };
    case 'failed':
      return {
        kind: 'bad',
        text: 'The payment service could not be reached. You were not charged. Please press "Pay now" again in a moment.',
      };
    default:
      return undefined;
  }
}
