/**
 * A payout's life (column `payouts.status`): written `pending` with its ledger transfer
 * (available → paid_out), then `paid` when the bank has credited the merchant's account, or `failed`
 * when the bank refused it (and a new transfer, paid_out → available, gives the money back).
 *
 *   pending ──bank_paid────▶ paid
 *           └─bank_refused──▶ failed
 */
import { defineMachine } from '../../core/state-machine.ts';

export const PAYOUT_STATES = ['pending', 'paid', 'failed'] as const;
export type PayoutStatus = (typeof PAYOUT_STATES)[number];

export const PAYOUT_EVENTS = ['bank_paid', 'bank_refused'] as const;
export type PayoutEvent = (typeof PAYOUT_EVENTS)[number];

/** The payout machine. */
export const payoutMachine = defineMachine<PayoutStatus, PayoutEvent>({
  name: 'payout',
  states: PAYOUT_STATES,
  events: PAYOUT_EVENTS,
  transitions: { pending: { bank_paid: 'paid', bank_refused: 'failed' } },
});
