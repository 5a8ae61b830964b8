import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { DomainError, ERROR_CODES, isDomainError, isErrorCode, toHttpError, type ErrorCode } from './errors.ts';

const EXPECTED_STATUS: Record<ErrorCode, number> = {
  'validation.failed': 422,
  'request.malformed': 400,
  'request.unsupported_media_type': 415,
  'request.too_large': 413,
  'auth.required': 401,
  'auth.invalid_credentials': 401,
  'auth.forbidden': 403,
  not_found: 404,
  'access.denied': 404,
  'csrf.invalid': 403,
  rate_limited: 429,
  conflict: 409,
  'idempotency.key_reused': 422,
  'idempotency.in_progress': 409,
  'money.currency_mismatch': 422,
  'money.negative': 422,
  'money.invalid': 422,
  'currency.unknown': 422,
  'id.invalid': 400,
  'state.illegal_transition': 409,
  'webhook.signature_invalid': 401,
  'webhook.timestamp_out_of_tolerance': 401,
  'webhook.headers_missing': 400,
  'request.signature_invalid': 401,
  'request.timestamp_out_of_tolerance': 401,
  'request.replayed': 409,
  'approval.expired': 409,
  'approval.already_answered': 409,
  'invoice.expired': 409,
  'invoice.not_valid': 409,
  'invoice.already_paid': 409,
  'invoice.amount_mismatch': 409,
  'invoice.unknown': 409,
  'refund.exceeds_captured': 409,
  'refund.not_allowed': 409,
  'refund.reason_required': 422,
  'refund.approval_by_requester': 409,
  'refund.charge_disputed': 409,
  'ledger.transfer_exists': 409,
  'ledger.pending_resolved': 409,
  'ledger.invalid_transfer': 500,
  'ledger.limit_exceeded': 409,
  'dispute.not_open': 409,
  'dispute.evidence_invalid': 400,
  'dispute.not_allowed': 409,
  'payout.refused': 422,
  'session.expired': 409,
  'session.not_payable': 409,
  'card.invalid': 422,
  'payment.declined': 402,
  'balance.insufficient': 402,
  'config.invalid': 500,
  internal: 500,
  'upstream.unavailable': 502,
  'cart.empty': 409,
  'cart.quantity_invalid': 422,
  'product.unavailable': 409,
  'checkout.incomplete': 409,
  'order.not_changeable': 409,
  'order.not_payable': 409,
  'auth.email_taken': 409,
  'webhook_secret.rotation_unsupported': 409,
};

describe('DomainError', () => {
  it('carries its code, the table status and the public message', () => {
    const err = new DomainError('invoice.expired', { invoiceId: 'inv_x' });
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'DomainError');
    assert.equal(err.code, 'invoice.expired');
    assert.equal(err.status, 409);
    assert.equal(err.message, ERROR_CODES['invoice.expired'].message);
    assert.deepEqual(err.details, { invoiceId: 'inv_x' });
    assert.ok(err.stack?.includes('DomainError'));
  });

  it('freezes a copy of details so a caller mutating its object cannot alter the error', () => {
    const details: Record<string, unknown> = { a: 1 };
    const err = new DomainError('conflict', details);
    details['a'] = 2;
    assert.equal(err.details?.['a'], 1);
    assert.ok(Object.isFrozen(err.details));
  });

  it('keeps the original failure as cause for the logs', () => {
    const cause = new Error('db down');
    const err = new DomainError('upstream.unavailable', undefined, { cause });
    assert.equal(err.cause, cause);
    assert.equal(err.details, undefined);
  });
});

describe('ERROR_CODES', () => {
  for (const [code, status] of Object.entries(EXPECTED_STATUS)) {
    it(`maps ${code} to ${status}`, () => {
      assert.equal(ERROR_CODES[code as ErrorCode].status, status);
      assert.equal(toHttpError(new DomainError(code as ErrorCode)).status, status);
    });
  }

  it('has exactly the expected codes, each with a non-empty message', () => {
    assert.deepEqual(Object.keys(ERROR_CODES).sort(), Object.keys(EXPECTED_STATUS).sort());
    for (const { message } of Object.values(ERROR_CODES)) assert.ok(message.length > 0);
  });

  it('makes access.denied indistinguishable from not_found on the wire', () => {
    const denied = toHttpError(new DomainError('access.denied'));
    const missing = toHttpError(new DomainError('not_found'));
    assert.equal(denied.status, missing.status);
    assert.equal(denied.body.error.message, missing.body.error.message);
  });
});

describe('isDomainError / isErrorCode', () => {
  it('recognises a DomainError and optionally its code', () => {
    const err = new DomainError('conflict');
    assert.equal(isDomainError(err), true);
    assert.equal(isDomainError(err, 'conflict'), true);
    assert.equal(isDomainError(err, 'not_found'), false);
  });

  it('does not mistake a plain Error or an error-shaped object for a DomainError', () => {
    assert.equal(isDomainError(new Error('conflict')), false);
    assert.equal(isDomainError({ code: 'conflict', status: 409, message: 'x' }), false);
    assert.equal(isDomainError(undefined), false);
  });

  it('accepts only codes in the table, not inherited property names', () => {
    assert.equal(isErrorCode('invoice.expired'), true);
    assert.equal(isErrorCode('invoice.expird'), false);
    assert.equal(isErrorCode('toString'), false);
    assert.equal(isErrorCode(42), false);
  });
});

describe('toHttpError', () => {
  it('maps a DomainError to its status, code, message and details', () => {
    const result = toHttpError(new DomainError('refund.exceeds_captured', { remaining: '500' }));
    assert.deepEqual(result, {
      status: 409,
      body: {
        error: {
          code: 'refund.exceeds_captured',
          message: ERROR_CODES['refund.exceeds_captured'].message,
          details: { remaining: '500' },
        },
      },
    });
  });

  it('omits details when the error has none', () => {
    const result = toHttpError(new DomainError('auth.required'));
    assert.equal('details' in result.body.error, false);
  });

  it('keeps the details of a server-side DomainError out of the response', () => {
    const result = toHttpError(new DomainError('config.invalid', { variable: 'SHOP_DATABASE_URL=postgres://u:pw@h' }));
    assert.equal(result.status, 500);
    assert.equal('details' in result.body.error, false);
    assert.ok(!JSON.stringify(result).includes('pw@h'));
  });

  it('maps a ZodError to 422 validation.failed with dotted field paths', () => {
    const schema = z.object({ address: z.object({ zip: z.string() }), lines: z.array(z.number()) });
    const parsed = schema.safeParse({ address: { zip: 1 }, lines: [1, 'two'] });
    assert.equal(parsed.success, false);
    const result = toHttpError(parsed.error);
    assert.equal(result.status, 422);
    assert.equal(result.body.error.code, 'validation.failed');
    assert.equal(result.body.error.message, ERROR_CODES['validation.failed'].message);
    const details = result.body.error.details as { issues: { path: string; message: string }[] };
    assert.deepEqual(
      details.issues.map((issue) => issue.path),
      ['address.zip', 'lines.1'],
    );
    for (const issue of details.issues) assert.ok(issue.message.length > 0);
  });

  it('maps a thrown ZodError from parse() the same way', () => {
    let thrown: unknown;
    try {
      z.string().parse(5);
    } catch (err) {
      thrown = err;
    }
    const result = toHttpError(thrown);
    assert.equal(result.status, 422);
    assert.deepEqual(
      (result.body.error.details as { issues: { path: string }[] }).issues.map((i) => i.path),
      [''],
    );
  });

  it('maps an unknown Error to 500 internal without leaking its message', () => {
    const result = toHttpError(new Error('relation "users" does not exist; password=hunter2'));
    assert.deepEqual(result, {
      status: 500,
      body: { error: { code: 'internal', message: ERROR_CODES.internal.message } },
    });
    assert.ok(!JSON.stringify(result).includes('hunter2'));
  });

  it('maps thrown non-errors (strings, null, objects) to 500 internal', () => {
    for (const thrown of ['boom', null, undefined, 42, { status: 200, code: 'not_found' }]) {
      const result = toHttpError(thrown);
      assert.equal(result.status, 500);
      assert.equal(result.body.error.code, 'internal');
      assert.equal(result.body.error.message, ERROR_CODES.internal.message);
    }
  });
});
