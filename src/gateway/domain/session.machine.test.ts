import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { money } from '../../core/money.ts';
import { parseCard, summariseCard } from './card.ts';
import { decideRefund } from './refund.rule.ts';
import {
  SESSION_EVENTS,
  SESSION_STATES,
  sessionMachine,
  type SessionEvent,
  type SessionStatus,
} from './session.machine.ts';
import {
  classifyAnswer,
  nextRetryDelayMs,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_SCHEDULE_SECONDS,
} from './webhook.schedule.ts';

// The expected table, written out independently of the machine's definition: every legal
// (state, event) pair with its target and the webhook event it emits (or null).
const LEGAL: Record<string, [SessionStatus, string | null]> = {
  'created/submit_card': ['processing', null],
  'created/expire': ['expired', 'payment.expired'],
  'created/cancel': ['canceled', 'payment.canceled'],
  'processing/authorization_failed': ['created', null],
  'processing/bank_pending': ['requires_approval', 'payment.requires_approval'],
  'processing/bank_approved': ['authorized', 'payment.authorized'],
  'processing/bank_declined': ['declined', 'payment.declined'],
  'requires_approval/bank_approved': ['authorized', 'payment.authorized'],
  'requires_approval/bank_declined': ['declined', 'payment.declined'],
  'authorized/capture': ['captured', 'payment.captured'],
  'authorized/void': ['voided', 'payment.voided'],
  'captured/refund_partial': ['partially_refunded', 'payment.partially_refunded'],
  'captured/refund_full': ['refunded', 'payment.refunded'],
  'partially_refunded/refund_partial': ['partially_refunded', 'payment.partially_refunded'],
  'partially_refunded/refund_full': ['refunded', 'payment.refunded'],
};

describe('payment session machine', () => {
  for (const state of SESSION_STATES) {
    for (const event of SESSION_EVENTS) {
      const expected = LEGAL[`${state}/${event}`];
      if (expected) {
        it(`${state} --${event}--> ${expected[0]}${expected[1] ? ` and emits ${expected[1]}` : ''}`, () => {
          const result = sessionMachine.apply(state, event);
          assert.equal(result.state, expected[0]);
          assert.deepEqual(result.effects, expected[1] ? [expected[1]] : []);
        });
      } else {
        it(`refuses ${event} in ${state}`, () => {
          const result = sessionMachine.transition(state, event as SessionEvent);
          assert.equal(result.ok, false);
          assert.ok(!result.ok && isDomainError(result.error, 'state.illegal_transition'));
        });
      }
    }
  }

  it('has exactly the legal transitions listed above', () => {
    let count = 0;
    for (const s of SESSION_STATES) count += sessionMachine.legalEvents(s).length;
    assert.equal(count, Object.keys(LEGAL).length);
  });

  it('cannot capture without passing through authorized, and voided, declined, expired, canceled, refunded are final', () => {
    for (const s of ['voided', 'declined', 'expired', 'canceled', 'refunded'] as const)
      assert.ok(sessionMachine.isTerminal(s), s);
    for (const s of SESSION_STATES) if (s !== 'authorized') assert.equal(sessionMachine.can(s, 'capture'), false, s);
  });
});

describe('refund rule', () => {
  const eur = (n: bigint) => money(n, 'EUR');
  it('a partial refund below the captured amount is partial, the rest makes it full', () => {
    const first = decideRefund({
      disputed: false,
      status: 'captured',
      captured: eur(1000n),
      alreadyRefunded: eur(0n),
      requested: eur(400n),
    });
    assert.equal(first.event, 'refund_partial');
    assert.equal(first.refundedAfter.minor, 400n);
    const second = decideRefund({
      disputed: false,
      status: 'partially_refunded',
      captured: eur(1000n),
      alreadyRefunded: eur(400n),
      requested: eur(600n),
    });
    assert.equal(second.event, 'refund_full');
  });
  it('refuses a refund that would take the total above the captured amount', () => {
    assert.throws(
      () =>
        decideRefund({
          disputed: false,
          status: 'partially_refunded',
          captured: eur(1000n),
          alreadyRefunded: eur(400n),
          requested: eur(601n),
        }),
      (e) => isDomainError(e, 'refund.exceeds_captured'),
    );
  });
  it('refuses refunds of unpaid or fully refunded sessions, other currencies and zero', () => {
    for (const status of ['created', 'authorized', 'voided', 'refunded'] as const) {
      assert.throws(
        () =>
          decideRefund({ disputed: false, status, captured: eur(1000n), alreadyRefunded: eur(0n), requested: eur(1n) }),
        (e) => isDomainError(e, 'refund.not_allowed'),
      );
    }
    assert.throws(
      () =>
        decideRefund({
          disputed: false,
          status: 'captured',
          captured: eur(1000n),
          alreadyRefunded: eur(0n),
          requested: money(1n, 'USD'),
        }),
      (e) => isDomainError(e, 'money.currency_mismatch'),
    );
    assert.throws(
      () =>
        decideRefund({
          disputed: false,
          status: 'captured',
          captured: eur(1000n),
          alreadyRefunded: eur(0n),
          requested: eur(0n),
        }),
      (e) => isDomainError(e, 'money.invalid'),
    );
  });
  it('refuses a refund of a payment with a dispute open or lost, however much is left', () => {
    for (const status of ['captured', 'partially_refunded'] as const) {
      assert.throws(
        () =>
          decideRefund({ disputed: true, status, captured: eur(1000n), alreadyRefunded: eur(0n), requested: eur(1n) }),
        (e) => isDomainError(e, 'refund.charge_disputed'),
      );
    }
  });
});

describe('card input', () => {
  const now = new Date(Date.UTC(2026, 5, 15));
  it('accepts a Luhn-valid future card and keeps only last 4, brand and a keyed fingerprint', () => {
    const card = parseCard(
      { number: '4242 4242 4242 4242', exp_month: 12, exp_year: 34, cvc: '123', name: 'A Payer' },
      now,
    );
    assert.equal(card.expYear, 2034);
    const summary = summariseCard(card, 'secret-one');
    assert.deepEqual(Object.keys(summary).sort(), ['brand', 'fingerprint', 'last4']);
    assert.equal(summary.last4, '4242');
    assert.equal(summary.brand, 'visa');
    assert.ok(!summary.fingerprint.includes('424242'));
    assert.notEqual(summary.fingerprint, summariseCard(card, 'secret-two').fingerprint);
  });
  it('names each bad field: Luhn failure, past expiry, short CVC, empty name', () => {
    assert.throws(
      () => parseCard({ number: '4242424242424241', exp_month: 5, exp_year: 2026, cvc: '12', name: ' ' }, now),
      (e) => {
        assert.ok(isDomainError(e, 'card.invalid'));
        assert.deepEqual(Object.keys((e.details as { fields: object }).fields).sort(), [
          'cvc',
          'expiry',
          'name',
          'number',
        ]);
        return true;
      },
    );
  });
});

describe('webhook retry schedule', () => {
  it('follows the documented schedule within ±20 % jitter, then stops', () => {
    for (let n = 1; n < WEBHOOK_MAX_ATTEMPTS; n++) {
      const base = WEBHOOK_RETRY_SCHEDULE_SECONDS[n - 1]! * 1000;
      assert.equal(
        nextRetryDelayMs(n, () => 0),
        Math.round(base * 0.8),
      );
      assert.equal(
        nextRetryDelayMs(n, () => 1),
        Math.round(base * 1.2),
      );
    }
    assert.equal(
      nextRetryDelayMs(WEBHOOK_MAX_ATTEMPTS, () => 0.5),
      null,
    );
  });
  it('reads 2xx as delivered, 409/422 as a refusal only for the acknowledgement request, 410 as gone, the rest as retry', () => {
    assert.equal(classifyAnswer(204, true), 'delivered');
    assert.equal(classifyAnswer(409, true), 'refused');
    assert.equal(classifyAnswer(422, true), 'refused');
    assert.equal(classifyAnswer(409, false), 'retry');
    assert.equal(classifyAnswer(410, false), 'gone');
    assert.equal(classifyAnswer(500, true), 'retry');
    assert.equal(classifyAnswer(null, true), 'retry');
  });
});
