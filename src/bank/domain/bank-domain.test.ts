// The bank's pure domain: both state machines over every (state, event) pair, and the issuer's
// first decision for every card rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { APPROVAL_STATUSES, approvalMachine, isApprovalExpired, type ApprovalEvent } from './approval.machine.ts';
import { AUTHORIZATION_STATUSES, authorizationMachine, type AuthorizationEvent } from './authorization.machine.ts';
import { decideAuthorization, hashCvc, isCardExpired, type IssuedCard } from './issuer-decision.ts';

// Written out independently of the definitions.
const AUTH_LEGAL: Record<string, string> = {
  'pending/approve': 'approved',
  'pending/decline': 'declined',
  'pending/void': 'voided',
  'approved/capture': 'captured',
  'approved/void': 'voided',
  'captured/refund': 'refunded',
  'refunded/refund': 'refunded',
};
const AUTH_EVENTS: AuthorizationEvent[] = ['approve', 'decline', 'void', 'capture', 'refund'];

const APPROVAL_LEGAL: Record<string, string> = {
  'pending/approve': 'approved',
  'pending/decline': 'declined',
  'pending/expire': 'expired',
  'pending/cancel': 'cancelled',
};
const APPROVAL_EVENTS: ApprovalEvent[] = ['approve', 'decline', 'expire', 'cancel'];

describe('bank authorisation machine', () => {
  for (const state of AUTHORIZATION_STATUSES) {
    for (const event of AUTH_EVENTS) {
      const to = AUTH_LEGAL[`${state}/${event}`];
      if (to) {
        it(`${state} --${event}--> ${to}`, () => assert.equal(authorizationMachine.apply(state, event).state, to));
      } else {
        it(`refuses ${event} when ${state}`, () => {
          const r = authorizationMachine.transition(state, event);
          assert.equal(r.ok, false);
          assert.ok(!r.ok && isDomainError(r.error, 'state.illegal_transition'));
        });
      }
    }
  }
  it('ends for good when declined or voided', () => {
    assert.ok(authorizationMachine.isTerminal('declined'));
    assert.ok(authorizationMachine.isTerminal('voided'));
  });
});

describe('approval request machine', () => {
  for (const state of APPROVAL_STATUSES) {
    for (const event of APPROVAL_EVENTS) {
      const to = APPROVAL_LEGAL[`${state}/${event}`];
      if (to) {
        it(`${state} --${event}--> ${to}`, () => assert.equal(approvalMachine.apply(state, event).state, to));
      } else {
        it(`cannot be answered (${event}) once ${state}`, () => assert.equal(approvalMachine.can(state, event), false));
      }
    }
  }
  it('counts the deadline itself as expired', () => {
    const at = new Date('2026-01-01T00:02:00Z');
    assert.equal(isApprovalExpired(at, new Date('2026-01-01T00:01:59.999Z')), false);
    assert.equal(isApprovalExpired(at, at), true);
  });
});

describe('issuer decision', () => {
  const now = new Date('2026-06-15T12:00:00Z');
  const card = (policy: IssuedCard['policy'], exp: [number, number] = [12, 2034]): IssuedCard => ({
    id: 'card_x',
    expMonth: exp[0],
    expYear: exp[1],
    cvcHash: hashCvc('card_x', '123'),
    policy,
  });
  const presented = { expMonth: 12, expYear: 2034, cvc: '123' };

  it('holds then approves, asks or delays according to the card', () => {
    assert.deepEqual(decideAuthorization(card('standard'), presented, now), { kind: 'hold', then: 'approve' });
    assert.deepEqual(decideAuthorization(card('approval'), presented, now), { kind: 'hold', then: 'ask' });
    assert.deepEqual(decideAuthorization(card('delayed'), presented, now), { kind: 'hold', then: 'delay' });
  });
  it('declines with the reason that applies', () => {
    assert.deepEqual(decideAuthorization(undefined, presented, now), { kind: 'decline', reason: 'unknown_card' });
    assert.deepEqual(decideAuthorization(card('decline'), presented, now), {
      kind: 'decline',
      reason: 'card_declined',
    });
    assert.deepEqual(decideAuthorization(card('standard'), { ...presented, cvc: '124' }, now), {
      kind: 'decline',
      reason: 'invalid_cvc',
    });
    assert.deepEqual(decideAuthorization(card('standard'), { ...presented, expMonth: 11 }, now), {
      kind: 'decline',
      reason: 'card_declined',
    });
    assert.deepEqual(
      decideAuthorization(card('standard', [5, 2026]), { ...presented, expMonth: 5, expYear: 2026 }, now),
      {
        kind: 'decline',
        reason: 'expired_card',
      },
    );
  });
  it('treats a card as valid through the last day of its expiry month (UTC)', () => {
    assert.equal(isCardExpired(6, 2026, now), false);
    assert.equal(isCardExpired(5, 2026, now), true);
    assert.equal(isCardExpired(1, 2027, now), false);
  });
});
