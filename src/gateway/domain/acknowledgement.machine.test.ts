import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { DELIVERY_EVENTS, DELIVERY_STATES, deliveryMachine } from './delivery.machine.ts';
import { REFUND_EVENTS, REFUND_STATES, refundMachine } from './refund.machine.ts';
import {
  ACKNOWLEDGEMENT_EVENTS,
  ACKNOWLEDGEMENT_STATES,
  decideAcknowledgement,
  decideSessionEvent,
  SESSION_STATES,
  type Acknowledgement,
  type AcknowledgementState,
} from './session.machine.ts';

const deadline = new Date('2026-06-15T12:15:00Z');
const before = new Date(deadline.getTime() - 1);
const at = deadline;
const stored = (a: AcknowledgementState): Acknowledgement | null => (a === 'awaiting' ? null : a);

// Written out independently of the machine: [event, when] → the acknowledgement it leads to from
// `awaiting` on an authorised session; everything else is refused.
const LEGAL_FROM_AWAITING: Record<string, Acknowledgement> = {
  'acknowledge/before': 'acknowledged',
  'refuse/before': 'refused',
  'refuse/at': 'refused',
  'time_out/at': 'timed_out',
};

describe('acknowledgement of an authorisation', () => {
  for (const status of SESSION_STATES) {
    for (const ack of ACKNOWLEDGEMENT_STATES) {
      for (const event of ACKNOWLEDGEMENT_EVENTS) {
        for (const [when, now] of [
          ['before', before],
          ['at', at],
        ] as const) {
          const expected =
            status === 'authorized' && ack === 'awaiting' ? LEGAL_FROM_AWAITING[`${event}/${when}`] : undefined;
          const name = `${status}/${ack}: ${event} ${when} the deadline`;
          it(expected ? `${name} → ${expected}` : `${name} is refused`, () => {
            const result = decideAcknowledgement(
              { status, acknowledgement: stored(ack), ackDeadline: deadline },
              event,
              now,
            );
            if (expected) {
              assert.ok(result.ok);
              assert.equal(result.state, expected);
            } else {
              assert.ok(!result.ok && isDomainError(result.error, 'state.illegal_transition'));
            }
          });
        }
      }
    }
  }

  it('an authorisation without a deadline can be refused but neither acknowledged nor timed out', () => {
    const s = { status: 'authorized' as const, acknowledgement: null, ackDeadline: null };
    assert.equal(decideAcknowledgement(s, 'acknowledge', before).ok, false);
    assert.equal(decideAcknowledgement(s, 'time_out', at).ok, false);
    assert.equal(decideAcknowledgement(s, 'refuse', at).ok, true);
  });

  it('captures only what the shop acknowledged, and voids only what it refused or let time out', () => {
    for (const ack of ACKNOWLEDGEMENT_STATES) {
      const s = { status: 'authorized' as const, acknowledgement: stored(ack), ackDeadline: deadline };
      assert.equal(decideSessionEvent(s, 'capture').ok, ack === 'acknowledged', `capture when ${ack}`);
      assert.equal(decideSessionEvent(s, 'void').ok, ack === 'refused' || ack === 'timed_out', `void when ${ack}`);
    }
  });
});

describe('webhook delivery machine', () => {
  const LEGAL: Record<string, string> = {
    'pending/deliver': 'delivered',
    'pending/refuse': 'refused',
    'pending/give_up': 'failed',
    'pending/disable': 'disabled',
    'pending/retry': 'pending',
    'pending/resend': 'pending',
    'delivered/resend': 'pending',
    'refused/resend': 'pending',
    'failed/resend': 'pending',
    'disabled/resend': 'pending',
  };
  for (const state of DELIVERY_STATES) {
    for (const event of DELIVERY_EVENTS) {
      const expected = LEGAL[`${state}/${event}`];
      it(expected ? `${state} --${event}--> ${expected}` : `refuses ${event} in ${state}`, () => {
        const result = deliveryMachine.transition(state, event);
        assert.equal(result.ok, expected !== undefined);
        if (result.ok) assert.equal(result.state, expected);
      });
    }
  }
});

describe('refund machine', () => {
  for (const state of REFUND_STATES) {
    for (const event of REFUND_EVENTS) {
      const legal = state === 'pending' && event === 'bank_refunded';
      it(legal ? `${state} --${event}--> succeeded` : `refuses ${event} in ${state}`, () => {
        const result = refundMachine.transition(state, event);
        assert.equal(result.ok, legal);
        if (result.ok) assert.equal(result.state, 'succeeded');
      });
    }
  }
});
