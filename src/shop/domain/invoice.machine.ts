/**
 * The invoice (seed 002): immutable once issued — amount, currency, owner and order never change;
 * only its status moves, and only forward. Every state and transition:
 *
 *   open     --pay-->     paid       a verified server-to-server payment message (webhook or status read)
 *   open     --expire-->  expired    its validity period ran out unpaid
 *   open     --void-->    voided     the unpaid order changed: this invoice is superseded by a new one
 *   open     --cancel-->  cancelled  the order was cancelled before payment
 *   paid     --refund-->  refunded   the payment was refunded in full (through the gateway)
 *   paid     --reverse--> reversed   the gateway voided the payment after we accepted it: no money was
 *                                     taken (our acknowledgement came too late, or never reached it)
 *   paid     --dispute--> disputed   the cardholder disputed the payment (a chargeback): no refund meanwhile
 *   disputed --win_dispute-->  paid          the dispute was decided for the shop: the money stays
 *   disputed --lose_dispute--> dispute_lost  decided for the cardholder: the money went back
 *
 * expired, voided, cancelled, refunded, reversed and dispute_lost are terminal. Only `open` is valid (payable); the stored
 * `valid` flag mirrors that so that the gateway-facing checks read one column.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const INVOICE_STATUSES = [
  'open',
  'paid',
  'expired',
  'voided',
  'cancelled',
  'refunded',
  'reversed',
  'disputed',
  'dispute_lost',
] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export const INVOICE_EVENTS = [
  'pay',
  'expire',
  'void',
  'cancel',
  'refund',
  'reverse',
  'dispute',
  'win_dispute',
  'lose_dispute',
] as const;
export type InvoiceEvent = (typeof INVOICE_EVENTS)[number];

/** The invoice's state machine; the table is the whole truth. */
export const invoiceMachine = defineMachine<InvoiceStatus, InvoiceEvent>({
  name: 'invoice',
  states: INVOICE_STATUSES,
  events: INVOICE_EVENTS,
  transitions: {
    open: { pay: 'paid', expire: 'expired', void: 'voided', cancel: 'cancelled' },
    paid: { refund: 'refunded', reverse: 'reversed', dispute: 'disputed' },
    disputed: { win_dispute: 'paid', lose_dispute: 'dispute_lost' },
  },
});

/** Whether an invoice in this status may still take a payment (the seed's "valid" sign). */
export function isValidStatus(status: InvoiceStatus): boolean {
  return status === 'open';
}
