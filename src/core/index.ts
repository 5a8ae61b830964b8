/**
 * The pure shared core: money, ids, errors, state machines and the webhook and request signature schemes.
 * Every party imports from here; nothing in core does I/O or reads the clock (ids aside).
 */
export * from './errors.ts';
export * from './money.ts';
export * from './ids.ts';
export * from './state-machine.ts';
export * from './webhook-signature.ts';
export * from './request-signature.ts';
