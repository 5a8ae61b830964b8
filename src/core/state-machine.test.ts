import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from './errors.ts';
import { defineMachine } from './state-machine.ts';

const STATES = ['open', 'paid', 'partially_refunded', 'refunded', 'expired', 'cancelled'] as const;
const EVENTS = ['pay', 'expire', 'cancel', 'refund_part', 'refund_rest', 'reopen'] as const;
type State = (typeof STATES)[number];
type Event = (typeof EVENTS)[number];

const sample = defineMachine<State, Event>({
  name: 'sample_invoice',
  states: STATES,
  events: EVENTS,
  transitions: {
    open: { pay: { to: 'paid', effects: ['send_receipt', 'notify_order'] }, expire: 'expired', cancel: 'cancelled' },
    paid: { refund_part: 'partially_refunded', refund_rest: 'refunded' },
    partially_refunded: { refund_part: 'partially_refunded', refund_rest: 'refunded' },
  },
});

// The expected table written out independently of the definition: [from, event] → [to, effects].
const LEGAL = new Map<string, [State, readonly string[]]>([
  ['open/pay', ['paid', ['send_receipt', 'notify_order']]],
  ['open/expire', ['expired', []]],
  ['open/cancel', ['cancelled', []]],
  ['paid/refund_part', ['partially_refunded', []]],
  ['paid/refund_rest', ['refunded', []]],
  ['partially_refunded/refund_part', ['partially_refunded', []]],
  ['partially_refunded/refund_rest', ['refunded', []]],
]);

describe('defineMachine: every (state, event) pair of the sample machine', () => {
  for (const state of STATES) {
    for (const event of EVENTS) {
      const legal = LEGAL.get(`${state}/${event}`);
      if (legal !== undefined) {
        const [to, effects] = legal;
        it(`moves ${state} --${event}--> ${to}`, () => {
          assert.deepEqual(sample.transition(state, event), { ok: true, state: to, effects });
          assert.deepEqual(sample.apply(state, event), { state: to, effects });
          assert.equal(sample.can(state, event), true);
        });
      } else {
        it(`refuses ${event} in ${state}`, () => {
          const result = sample.transition(state, event);
          assert.equal(result.ok, false);
          assert.ok(!result.ok && result.error instanceof DomainError);
          assert.equal(result.error.code, 'state.illegal_transition');
          assert.deepEqual(result.error.details, { machine: 'sample_invoice', state, event });
          assert.equal(sample.can(state, event), false);
          assert.throws(
            () => sample.apply(state, event),
            (err: unknown) => err instanceof DomainError && err.code === 'state.illegal_transition',
          );
        });
      }
    }
  }
});

describe('defineMachine: queries', () => {
  it('lists the legal events of each state in table order', () => {
    assert.deepEqual(sample.legalEvents('open'), ['pay', 'expire', 'cancel']);
    assert.deepEqual(sample.legalEvents('paid'), ['refund_part', 'refund_rest']);
    assert.deepEqual(sample.legalEvents('refunded'), []);
  });

  it('agrees with can() for every pair', () => {
    for (const state of STATES) {
      for (const event of EVENTS) assert.equal(sample.legalEvents(state).includes(event), sample.can(state, event));
    }
  });

  it('calls exactly the states without a way out terminal', () => {
    const terminal = STATES.filter((s) => sample.isTerminal(s));
    assert.deepEqual(terminal, ['refunded', 'expired', 'cancelled']);
  });

  it('exposes its name, states and events', () => {
    assert.equal(sample.name, 'sample_invoice');
    assert.deepEqual(sample.states, STATES);
    assert.deepEqual(sample.events, EVENTS);
  });

  it('is frozen, and so are the effects it hands out', () => {
    assert.ok(Object.isFrozen(sample));
    const result = sample.transition('open', 'pay');
    assert.ok(result.ok && Object.isFrozen(result.effects));
  });
});

describe('defineMachine: input from outside the types', () => {
  it('refuses events named like Object.prototype members', () => {
    for (const event of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const result = sample.transition('open', event as Event);
      assert.equal(result.ok, false);
      assert.equal(sample.can('open', event as Event), false);
    }
  });

  it('refuses transitions from an unknown state (e.g. a corrupt row)', () => {
    const result = sample.transition('archived' as State, 'pay');
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.deepEqual(result.error.details, { machine: 'sample_invoice', state: 'archived', event: 'pay' });
  });
});

describe('defineMachine: checking the table at definition time', () => {
  it('infers events from the table when no list is given', () => {
    const m = defineMachine({
      name: 'light',
      states: ['off', 'on'],
      transitions: { off: { toggle: 'on' }, on: { toggle: 'off' } },
    });
    assert.deepEqual(m.events, ['toggle']);
    assert.deepEqual(m.transition('off', 'toggle'), { ok: true, state: 'on', effects: [] });
  });

  it('refuses a target state that is not in states', () => {
    assert.throws(
      () =>
        defineMachine({
          name: 'broken',
          states: ['a', 'b'],
          // @ts-expect-error a typo in a target state must fail the typecheck
          transitions: { a: { go: 'c' } },
        }),
      /unknown state c/,
    );
  });

  it('refuses a source state that is not in states', () => {
    assert.throws(
      () =>
        defineMachine({
          name: 'broken',
          states: ['a', 'b'],
          // @ts-expect-error a typo in a source state must fail the typecheck
          transitions: { z: { go: 'a' } },
        }),
      /unknown state z/,
    );
  });

  it('refuses an event that is missing from an explicit events list', () => {
    assert.throws(
      () =>
        defineMachine<'a' | 'b', 'go'>({
          name: 'broken',
          states: ['a', 'b'],
          events: ['go'],
          // A table assembled at runtime can carry an event the list lacks; the check must catch it.
          transitions: JSON.parse('{"a":{"go":"b","jump":"b"}}') as { a: { go: 'b' } },
        }),
      /event jump is not in events/,
    );
  });

  it('refuses duplicate states', () => {
    assert.throws(() => defineMachine({ name: 'broken', states: ['a', 'a'], transitions: {} }), /duplicate state/);
  });
});
