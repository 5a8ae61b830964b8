import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DISPUTE_EVENTS, DISPUTE_STATES, disputeMachine, evidenceProblem } from './dispute.machine.ts';
import { disputeCloseTransfers, disputeOpenTransfers } from './ledger.dispute.ts';

// Written out independently of the machine's table: every legal move; every other pair is refused.
const LEGAL: Record<string, string> = {
  'needs_response/submit_evidence': 'under_review',
  'needs_response/accept': 'lost',
  'needs_response/bank_lost': 'lost',
  'needs_response/bank_won': 'won',
  'under_review/bank_won': 'won',
  'under_review/bank_lost': 'lost',
};

describe('the gateway dispute machine', () => {
  for (const state of DISPUTE_STATES) {
    for (const event of DISPUTE_EVENTS) {
      const expected = LEGAL[`${state}/${event}`];
      it(`${state} --${event}--> ${expected ?? 'refused'}`, () => {
        const r = disputeMachine.transition(state, event);
        if (expected) assert.deepEqual(r.ok && r.state, expected);
        else assert.equal(r.ok, false);
      });
    }
  }
  it('won and lost are final', () => {
    assert.deepEqual(
      DISPUTE_STATES.filter((s) => disputeMachine.isTerminal(s)),
      ['won', 'lost'],
    );
  });
});

describe('evidence limits', () => {
  const file = (bytes: number) => ({
    name: 'f.bin',
    content_type: 'application/octet-stream',
    content_base64: Buffer.alloc(bytes).toString('base64'),
  });
  it('takes text up to 20000 characters and up to 5 files of up to 1 MB', () => {
    assert.equal(evidenceProblem({ text: 'x'.repeat(20_000), files: [] }), null);
    assert.equal(evidenceProblem({ text: '', files: Array.from({ length: 5 }, () => file(1_048_576)) }), null);
  });
  it('refuses more, less, or what is not base64', () => {
    assert.match(evidenceProblem({ text: 'x'.repeat(20_001), files: [] })!, /text/);
    assert.match(evidenceProblem({ text: 'a', files: Array.from({ length: 6 }, () => file(1)) })!, /files/);
    assert.match(evidenceProblem({ text: 'a', files: [file(1_048_577)] })!, /1 MB/);
    assert.match(evidenceProblem({ text: 'a', files: [{ ...file(1), content_base64: 'not base64!' }] })!, /base64/);
    assert.match(evidenceProblem({ text: '  ', files: [] })!, /no text/);
  });
});

describe('dispute transfers', () => {
  const d = { id: 'dp_X', merchantId: 'mer_A', sessionId: 'ps_S', amountMinor: 1500n, currency: 'EUR' };
  it('open: available → dispute_reserve; won: back; lost: to settlement; ids derived from the dispute', () => {
    const [open] = disputeOpenTransfers(d);
    assert.deepEqual(
      [open!.id, open!.debitAccountId, open!.creditAccountId, open!.amount],
      ['dispute_open_dp_X', 'acct_mer_A_EUR_available', 'acct_mer_A_EUR_dispute_reserve', 1500n],
    );
    const won = disputeCloseTransfers(d, 'won').at(-1)!;
    assert.deepEqual(
      [won.id, won.debitAccountId, won.creditAccountId],
      ['dispute_won_dp_X', 'acct_mer_A_EUR_dispute_reserve', 'acct_mer_A_EUR_available'],
    );
    const lost = disputeCloseTransfers(d, 'lost').at(-1)!;
    assert.deepEqual(
      [lost.id, lost.debitAccountId, lost.creditAccountId],
      ['dispute_lost_dp_X', 'acct_mer_A_EUR_dispute_reserve', 'acct_mer_A_EUR_settlement'],
    );
  });
});
