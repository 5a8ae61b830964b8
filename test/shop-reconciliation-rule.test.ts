// The operator's reconciliation rule (src/shop/domain/reconciliation.rule.ts), table-driven: which
// pairs of (shop invoice/attempt, gateway session) are differences, and which are transitions in flight.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttemptStatus } from '../src/shop/domain/attempt.machine.ts';
import type { InvoiceStatus } from '../src/shop/domain/invoice.machine.ts';
import { compareAttempt, type GatewaySide } from '../src/shop/domain/reconciliation.rule.ts';

const now = new Date('2026-12-02T02:00:00Z');
const justNow = new Date(now.getTime() - 10_000);
const longAgo = new Date(now.getTime() - 600_000);

type Row = [InvoiceStatus, AttemptStatus, GatewaySide, Date, 'paid_here_not_there' | 'paid_there_not_here' | null];

const TABLE: Row[] = [
  // Both agree.
  ['paid', 'captured', 'captured', longAgo, null],
  ['paid', 'paid', 'captured', longAgo, null],
  ['open', 'session_created', 'open', longAgo, null],
  ['open', 'pending', 'pending', justNow, null],
  ['expired', 'expired', 'expired', longAgo, null],
  ['open', 'declined', 'declined', longAgo, null],
  ['reversed', 'voided', 'voided', longAgo, null],
  ['refunded', 'refunded', 'refunded', longAgo, null],
  ['refunded', 'captured', 'refunded', longAgo, null],
  ['disputed', 'captured', 'captured', longAgo, null],
  ['dispute_lost', 'captured', 'captured', longAgo, null],
  // In flight: accepted and being captured, refused and being voided.
  ['paid', 'paid', 'authorized', justNow, null],
  ['open', 'refused', 'authorized', justNow, null],
  // Paid here, not there.
  ['paid', 'paid', 'authorized', longAgo, 'paid_here_not_there'],
  ['paid', 'captured', 'voided', longAgo, 'paid_here_not_there'],
  ['paid', 'paid', 'voided', justNow, 'paid_here_not_there'],
  ['paid', 'captured', 'refunded', longAgo, 'paid_here_not_there'],
  ['paid', 'captured', 'unknown', justNow, 'paid_here_not_there'],
  ['disputed', 'captured', 'voided', longAgo, 'paid_here_not_there'],
  // Paid there, not here.
  ['open', 'session_created', 'authorized', justNow, 'paid_there_not_here'],
  ['open', 'pending', 'captured', justNow, 'paid_there_not_here'],
  ['expired', 'expired', 'captured', longAgo, 'paid_there_not_here'],
  ['open', 'refused', 'authorized', longAgo, 'paid_there_not_here'],
  ['reversed', 'voided', 'captured', longAgo, 'paid_there_not_here'],
  ['paid', 'declined', 'captured', longAgo, 'paid_there_not_here'],
];

describe('the reconciliation rule', () => {
  for (const [invoiceStatus, attemptStatus, gateway, at, expected] of TABLE)
    it(`shop ${invoiceStatus}/${attemptStatus}, gateway ${gateway}, changed ${at === justNow ? 'just now' : '10 min ago'}: ${expected ?? 'agree'}`, () => {
      const d = compareAttempt({ invoiceStatus, attemptStatus, attemptUpdatedAt: at }, gateway, now);
      assert.equal(d?.kind ?? null, expected);
      if (d) assert.ok(d.why.length > 20);
    });

  it('names a second capture of an invoice paid by another attempt', () => {
    const d = compareAttempt(
      { invoiceStatus: 'paid', attemptStatus: 'declined', attemptUpdatedAt: longAgo },
      'captured',
      now,
    );
    assert.match(d?.why ?? '', /paid by another attempt/);
  });
});
