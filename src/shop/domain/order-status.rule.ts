/**
 * THE rule: an order's status follows its invoice's status (seed 002: "when the account status
 * changes, the trigger should change the status of the order"). Nothing else writes order status.
 *
 *   invoice open | expired | voided  -> order awaiting_payment  (a new invoice can still be issued)
 *   invoice paid                     -> order paid
 *   invoice cancelled                -> order cancelled
 *   invoice refunded                 -> order refunded
 *   invoice reversed                 -> order awaiting_payment (by the order's `reverse`: paid, then voided at the gateway)
 *   invoice disputed                 -> order disputed (and back to paid when the shop wins)
 *   invoice dispute_lost             -> order dispute_lost
 */
import { DomainError } from '../../core/errors.ts';
import type { InvoiceStatus } from './invoice.machine.ts';
import { orderMachine, type OrderEvent, type OrderStatus } from './order.machine.ts';

const RULE: { readonly [S in InvoiceStatus]: OrderStatus } = {
  open: 'awaiting_payment',
  expired: 'awaiting_payment',
  voided: 'awaiting_payment',
  paid: 'paid',
  cancelled: 'cancelled',
  refunded: 'refunded',
  reversed: 'awaiting_payment',
  disputed: 'disputed',
  dispute_lost: 'dispute_lost',
};

const EVENT_TO: { readonly [S in OrderStatus]?: OrderEvent } = {
  paid: 'pay',
  cancelled: 'cancel',
  refunded: 'refund',
  disputed: 'dispute',
  dispute_lost: 'lose_dispute',
};

/** The order status an invoice status implies. */
export function orderStatusForInvoice(status: InvoiceStatus): OrderStatus {
  return RULE[status];
}

/**
 * Applies the rule to an order in `current` whose invoice is now `invoiceStatus`: the new order
 * status and whether it changed (a change is published as an event). A move the order machine
 * forbids (backwards, or out of a terminal state) throws `state.illegal_transition`.
 */
export function followInvoice(
  current: OrderStatus,
  invoiceStatus: InvoiceStatus,
): { status: OrderStatus; changed: boolean } {
  const target = RULE[invoiceStatus];
  if (target === current) return { status: current, changed: false };
  // Only a reversed payment takes an order back to awaiting payment; any other way back stays illegal.
  // A won dispute takes the order back to paid: the only other way back.
  const event =
    invoiceStatus === 'reversed'
      ? 'reverse'
      : current === 'disputed' && target === 'paid'
        ? 'win_dispute'
        : EVENT_TO[target];
  if (event === undefined) {
    throw new DomainError('state.illegal_transition', { machine: 'order', state: current, target });
  }
  const next = orderMachine.apply(current, event);
  return { status: next.state, changed: true };
}
