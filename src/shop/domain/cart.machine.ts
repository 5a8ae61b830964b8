/**
 * The cart: open while the customer fills it, ordered once "Pay now" has frozen it into an order.
 *
 *   open --order--> ordered
 *
 * ordered is terminal; the customer's next visit opens a new cart.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const CART_STATUSES = ['open', 'ordered'] as const;
export type CartStatus = (typeof CART_STATUSES)[number];

/** The cart's state machine. */
export const cartMachine = defineMachine<CartStatus, 'order'>({
  name: 'cart',
  states: CART_STATUSES,
  transitions: { open: { order: 'ordered' } },
});
