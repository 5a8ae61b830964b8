/**
 * A callback to the gateway in the bank's outbox. One `status` column.
 *
 *   pending --deliver--> delivered    the gateway answered 2xx
 *
 * A failed attempt leaves it pending (attempts and last_error record why); delivered is final.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const CALLBACK_STATUSES = ['pending', 'delivered'] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];
export type CallbackEvent = 'deliver';

/** The outbox row's lifecycle. */
export const callbackMachine = defineMachine<CallbackStatus, CallbackEvent>({
  name: 'gateway_callback',
  states: CALLBACK_STATUSES,
  transitions: { pending: { deliver: 'delivered' } },
});
