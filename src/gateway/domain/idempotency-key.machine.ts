/**
 * An idempotency key: claimed (in progress) while its first request runs, then done with the stored
 * response every retry with the same key replays.
 *
 *   in_progress --complete--> done
 *
 * A claim whose request failed on our side is deleted, not moved, so that a retry runs again.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const IDEMPOTENCY_KEY_STATES = ['in_progress', 'done'] as const;
export type IdempotencyKeyState = (typeof IDEMPOTENCY_KEY_STATES)[number];

/** The idempotency key's state machine. */
export const idempotencyKeyMachine = defineMachine<IdempotencyKeyState, 'complete'>({
  name: 'idempotency_key',
  states: IDEMPOTENCY_KEY_STATES,
  transitions: { in_progress: { complete: 'done' } },
});
