import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BANK_DISPUTE_STATUSES, bankDisputeMachine, evidenceEvent, type BankDisputeEvent } from './dispute.machine.ts';

const EVENTS: BankDisputeEvent[] = [
  'submit_evidence',
  'evidence_wins',
  'evidence_loses',
  'accept',
  'deadline',
  'withdraw',
];

// Written out independently of the machine's table (won = the merchant won).
const LEGAL: Record<string, string> = {
  'open/submit_evidence': 'under_review',
  'open/evidence_wins': 'won',
  'open/evidence_loses': 'lost',
  'open/accept': 'lost',
  'open/deadline': 'lost',
  'open/withdraw': 'won',
  'under_review/deadline': 'won',
  'under_review/withdraw': 'won',
};

describe('the bank dispute machine', () => {
  for (const state of BANK_DISPUTE_STATUSES) {
    for (const event of EVENTS) {
      const expected = LEGAL[`${state}/${event}`];
      it(`${state} --${event}--> ${expected ?? 'refused'}`, () => {
        const r = bankDisputeMachine.transition(state, event);
        if (expected) assert.deepEqual(r.ok && r.state, expected);
        else assert.equal(r.ok, false);
      });
    }
  }
  it("evidence decides at once only with Stripe's test words", () => {
    assert.equal(evidenceEvent('Signed for. winning_evidence'), 'evidence_wins');
    assert.equal(evidenceEvent('losing_evidence'), 'evidence_loses');
    assert.equal(evidenceEvent('A receipt and the audit trail'), 'submit_evidence');
  });
});
