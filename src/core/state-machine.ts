/**
 * Table-driven state machines. Each party's domain declares its machines (invoice, attempt, session,
 * approval request) as a plain table, so the header of that file can list every state and transition
 * and a test can walk every (state, event) pair. Anything not in the table is illegal — there is no
 * default branch to forget.
 *
 * Effects are names only ("notify_shop", "void_authorisation"); carrying them out is the caller's
 * concern, in the same transaction as the state change.
 */
import { DomainError } from './errors.ts';

/** A transition's target: the next state, optionally with named effects for the caller to carry out. */
export type Target<S extends string> = S | { readonly to: S; readonly effects: readonly string[] };

export interface MachineDefinition<S extends string, E extends string> {
  readonly name: string;
  readonly states: readonly S[];
  /** Optional list of all events, including ones legal nowhere yet; defaults to those in the table. */
  readonly events?: readonly E[];
  readonly transitions: { readonly [from in NoInfer<S>]?: { readonly [event in E]?: Target<NoInfer<S>> } };
}

export type TransitionResult<S extends string> =
  | { readonly ok: true; readonly state: S; readonly effects: readonly string[] }
  | { readonly ok: false; readonly error: DomainError };

export interface Machine<S extends string, E extends string> {
  readonly name: string;
  readonly states: readonly S[];
  readonly events: readonly E[];
  /** Next state for an event, or a `state.illegal_transition` error as a value (no throw). */
  transition(state: S, event: E): TransitionResult<S>;
  /** Like transition, but throws the DomainError; for code that cannot continue anyway. */
  apply(state: S, event: E): { readonly state: S; readonly effects: readonly string[] };
  /** Whether the event is legal in the state (e.g. to decide which buttons a page shows). */
  can(state: S, event: E): boolean;
  /** Events legal in the state, in table order. */
  legalEvents(state: S): readonly E[];
  /** A state with no way out (paid, voided, refunded...). */
  isTerminal(state: S): boolean;
}

const NO_EFFECTS: readonly string[] = Object.freeze([]);

/** Builds a machine from its table and checks the table once, at startup, so a typo fails at boot. */
export function defineMachine<S extends string, E extends string>(definition: MachineDefinition<S, E>): Machine<S, E> {
  const { name, states } = definition;
  const stateSet = new Set<string>(states);
  if (stateSet.size !== states.length) throw new Error(`machine ${name}: duplicate state`);

  // Normalised copy in Maps: lookups must not reach Object.prototype (an event named "constructor"
  // arriving from the wire must be refused, not resolved to a function).
  const table = new Map<string, Map<string, { state: S; effects: readonly string[] }>>();
  const seenEvents: E[] = [];
  for (const [from, row] of Object.entries(definition.transitions) as [
    string,
    Record<string, Target<S> | undefined> | undefined,
  ][]) {
    if (!stateSet.has(from)) throw new Error(`machine ${name}: transition from unknown state ${from}`);
    const out = new Map<string, { state: S; effects: readonly string[] }>();
    for (const [event, target] of Object.entries(row ?? {})) {
      if (target === undefined) continue;
      const to = typeof target === 'string' ? target : target.to;
      const effects = typeof target === 'string' ? NO_EFFECTS : Object.freeze([...target.effects]);
      if (!stateSet.has(to)) throw new Error(`machine ${name}: ${from} --${event}--> unknown state ${to}`);
      if (definition.events !== undefined && !definition.events.includes(event as E)) {
        throw new Error(`machine ${name}: event ${event} is not in events`);
      }
      if (!seenEvents.includes(event as E)) seenEvents.push(event as E);
      out.set(event, { state: to, effects });
    }
    table.set(from, out);
  }
  const events = Object.freeze([...(definition.events ?? seenEvents)]);

  function lookup(state: S, event: E): { state: S; effects: readonly string[] } | undefined {
    return table.get(state)?.get(event);
  }

  function transition(state: S, event: E): TransitionResult<S> {
    const next = lookup(state, event);
    if (next === undefined) {
      return { ok: false, error: new DomainError('state.illegal_transition', { machine: name, state, event }) };
    }
    return { ok: true, state: next.state, effects: next.effects };
  }

  return Object.freeze({
    name,
    states: Object.freeze([...states]),
    events,
    transition,
    apply(state: S, event: E) {
      const result = transition(state, event);
      if (!result.ok) throw result.error;
      return { state: result.state, effects: result.effects };
    },
    can(state: S, event: E) {
      return lookup(state, event) !== undefined;
    },
    legalEvents(state: S) {
      return Object.freeze([...(table.get(state)?.keys() ?? [])] as E[]);
    },
    isTerminal(state: S) {
      return (table.get(state)?.size ?? 0) === 0;
    },
  });
}
