/**
 * The order: what the customer bought, frozen at ordering. Its status is never set directly; it
 * follows its invoice through the one rule in order-status.rule.ts. Every state and transition:
 *
 *   awaiting_payment --pay-->    paid
 *   awaiting_payment --cancel--> cancelled
 *   awaiting_payment --revise--> awaiting_payment   lines, delivery or address changed (new invoice)
 *   paid             --refund--> refunded
 *   paid             --reverse--> awaiting_payment   its invoice's payment was voided by the gateway after
 *                                                     we accepted it: nothing was taken, nothing may ship,
 *                                                     the customer may pay again (a new invoice)
 *   paid             --dispute-->      disputed      the cardholder disputed the payment: hold shipping
 *   disputed         --win_dispute-->  paid          decided for the shop
 *   disputed         --lose_dispute--> dispute_lost  decided for the cardholder: the money went back
 *
 * cancelled, refunded and dispute_lost are terminal; paid moves on to refunded, or back only by `reverse` (no money
 * was ever taken, so the order is owed again).
 */
import { defineMachine } from '../../core/state-machine.ts';

export const ORDER_STATUSES = [
  'awaiting_payment',
  'paid',
  'cancelled',
  'refunded',
  'disputed',
  'dispute_lost',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_EVENTS = [
  'pay',
  'cancel',
  'revise',
  'refund',
  'reverse',
  'dispute',
  'win_dispute',
  'lose_dispute',
] as const;
export type OrderEvent = (typeof ORDER_EVENTS)[number];

/** The order's state machine. */
export const orderMachine = defineMachine<OrderStatus, OrderEvent>({
  name: 'order',
  states: ORDER_STATUSES,
  events: ORDER_EVENTS,
  transitions: {
    awaiting_payment: { pay: 'paid', cancel: 'cancelled', revise: 'awaiting_payment' },
    paid: { refund: 'refunded', reverse: 'awaiting_payment', dispute: 'disputed' },
    disputed: { win_dispute: 'paid', lose_dispute: 'dispute_lost' },
  },
});

/** Whether the customer may still change the order (and so void and reissue its invoice). */
export function isChangeable(status: OrderStatus): boolean {
  return orderMachine.can(status, 'revise');
}
