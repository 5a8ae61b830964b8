import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { DomainError, type ErrorCode } from './errors.ts';
import { STANDARD_WEBHOOKS_VECTOR } from './testing.ts';
import { newWebhookSecret, signWebhook, verifyWebhook, type WebhookHeaders } from './webhook-signature.ts';

// Published Standard Webhooks test vector (shared with the verifier conformance proof).
const VECTOR = STANDARD_WEBHOOKS_VECTOR;

const at = (seconds: number) => new Date(seconds * 1000);
const T = VECTOR.timestamp;

function vectorHeaders(
  overrides: Partial<Record<string, string | undefined>> = {},
): Record<string, string | undefined> {
  return {
    'webhook-id': VECTOR.id,
    'webhook-timestamp': String(VECTOR.timestamp),
    'webhook-signature': VECTOR.signature,
    ...overrides,
  };
}

function verifyVector(input: Partial<Parameters<typeof verifyWebhook>[0]> = {}) {
  return verifyWebhook({ headers: vectorHeaders(), body: VECTOR.body, secrets: [VECTOR.secret], now: at(T), ...input });
}

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => err instanceof DomainError && err.code === code);
}

describe('Standard Webhooks test vector', () => {
  it('signs the vector to the published signature', () => {
    const headers = signWebhook({ id: VECTOR.id, timestamp: at(T), body: VECTOR.body, secrets: [VECTOR.secret] });
    assert.deepEqual(headers, {
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
    });
  });

  it('verifies the published signature and returns id and timestamp', () => {
    assert.deepEqual(verifyVector(), { id: VECTOR.id, timestamp: at(T) });
  });

  it('verifies the same bytes given as a Uint8Array', () => {
    assert.deepEqual(verifyVector({ body: new TextEncoder().encode(VECTOR.body) }), {
      id: VECTOR.id,
      timestamp: at(T),
    });
  });

  it('agrees with the standardwebhooks package on the vector', () => {
    assert.equal(new Webhook(VECTOR.secret).sign(VECTOR.id, at(T), VECTOR.body), VECTOR.signature);
  });
});

describe('cross-check with the standardwebhooks package', () => {
  const secret = newWebhookSecret();
  const bodies = [
    '{"type":"payment.authorised","amount":{"minor":"1234","currency":"EUR"}}',
    '',
    'ünïcødé € 😀',
    '{"a":1}\n',
  ];

  for (const body of bodies) {
    it(`verifies what the package signs (${JSON.stringify(body).slice(0, 30)})`, () => {
      const now = new Date('2030-01-01T00:00:00Z');
      const signature = new Webhook(secret).sign('msg_1', now, body);
      const headers = {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(now.getTime() / 1000),
        'webhook-signature': signature,
      };
      assert.deepEqual(verifyWebhook({ headers, body, secrets: [secret], now }), { id: 'msg_1', timestamp: now });
    });

    it(`signs what the package verifies (${JSON.stringify(body).slice(0, 30)})`, (t) => {
      const now = new Date('2030-01-01T00:00:00Z');
      // The package's verify reads Date.now(); pin it instead of racing the real clock.
      t.mock.timers.enable({ apis: ['Date'], now: now.getTime() });
      const headers = signWebhook({ id: 'msg_2', timestamp: now, body, secrets: [secret] });
      assert.doesNotThrow(() => new Webhook(secret).verify(body, { ...headers }, { jsonParse: false }));
    });
  }

  it('is cross-checked against a package that does refuse a wrong signature', (t) => {
    const now = new Date('2030-01-01T00:00:00Z');
    t.mock.timers.enable({ apis: ['Date'], now: now.getTime() });
    const headers = signWebhook({ id: 'msg_3', timestamp: now, body: 'a', secrets: [newWebhookSecret()] });
    assert.throws(() => new Webhook(secret).verify('a', { ...headers }), /No matching signature found/);
  });

  it('produces signatures the package accepts from either of two rotated secrets', (t) => {
    const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
    const now = new Date('2030-01-01T00:00:00Z');
    t.mock.timers.enable({ apis: ['Date'], now: now.getTime() });
    const headers = signWebhook({ id: 'msg_4', timestamp: now, body: 'x', secrets: [oldSecret, newSecret] });
    assert.doesNotThrow(() => new Webhook(oldSecret).verify('x', { ...headers }, { jsonParse: false }));
    assert.doesNotThrow(() => new Webhook(newSecret).verify('x', { ...headers }, { jsonParse: false }));
  });
});

describe('verifyWebhook: headers', () => {
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    it(`refuses a message without ${name}`, () => {
      throwsCode(() => verifyVector({ headers: vectorHeaders({ [name]: undefined }) }), 'webhook.headers_missing');
    });

    it(`refuses a message with an empty ${name}`, () => {
      throwsCode(() => verifyVector({ headers: vectorHeaders({ [name]: '' }) }), 'webhook.headers_missing');
    });
  }

  it('names every missing header in the details', () => {
    assert.throws(
      () => verifyVector({ headers: {} }),
      (err: unknown) =>
        err instanceof DomainError &&
        JSON.stringify(err.details) ===
          JSON.stringify({ missing: ['webhook-id', 'webhook-timestamp', 'webhook-signature'] }),
    );
  });

  it('finds headers whatever their case', () => {
    const headers = {
      'Webhook-Id': VECTOR.id,
      'WEBHOOK-TIMESTAMP': String(T),
      'webhook-Signature': VECTOR.signature,
    };
    assert.equal(verifyVector({ headers }).id, VECTOR.id);
  });
});

describe('verifyWebhook: signature', () => {
  const refused: [string, Partial<Parameters<typeof verifyWebhook>[0]>][] = [
    [
      'a bare signature without the v1, prefix',
      { headers: vectorHeaders({ 'webhook-signature': VECTOR.signature.slice(3) }) },
    ],
    [
      'an unknown version (v2,)',
      { headers: vectorHeaders({ 'webhook-signature': VECTOR.signature.replace('v1,', 'v2,') }) },
    ],
    ['a signature made with another key', { secrets: [newWebhookSecret()] }],
    ['a re-serialised body (JSON.stringify(JSON.parse(body)))', { body: JSON.stringify(JSON.parse(VECTOR.body)) }],
    ['a body with a trailing newline', { body: `${VECTOR.body}\n` }],
    ['a different message id', { headers: vectorHeaders({ 'webhook-id': 'msg_other' }) }],
    [
      'a signature truncated by one character',
      { headers: vectorHeaders({ 'webhook-signature': VECTOR.signature.slice(0, -1) }) },
    ],
    [
      'a signature with one character changed',
      { headers: vectorHeaders({ 'webhook-signature': VECTOR.signature.replace('g0hM', 'g0hN') }) },
    ],
    ['a signature header of only the version', { headers: vectorHeaders({ 'webhook-signature': 'v1,' }) }],
    // Same length, and Buffer.from(…, 'base64') would decode it to the very same bytes: compare the text.
    [
      'a non-canonical signature that a lenient base64 decoder accepts',
      { headers: vectorHeaders({ 'webhook-signature': VECTOR.signature.replace(/=$/, '!') }) },
    ],
  ];
  for (const [label, input] of refused) {
    it(`refuses ${label}`, () => {
      throwsCode(() => verifyVector(input), 'webhook.signature_invalid');
    });
  }

  it('refuses a signature whose timestamp was changed after signing', () => {
    throwsCode(
      () => verifyVector({ headers: vectorHeaders({ 'webhook-timestamp': String(T + 1) }) }),
      'webhook.signature_invalid',
    );
  });

  it('accepts a header with several signatures when one matches', () => {
    const header = `v2,abc v1,${'A'.repeat(43)}= ${VECTOR.signature}`;
    assert.equal(verifyVector({ headers: vectorHeaders({ 'webhook-signature': header }) }).id, VECTOR.id);
  });

  it('refuses a raw-byte body that differs from the signed bytes', () => {
    const bytes = new TextEncoder().encode(VECTOR.body);
    bytes[0] = 0x5b; // '[' instead of '{'
    throwsCode(() => verifyVector({ body: bytes }), 'webhook.signature_invalid');
  });
});

describe('verifyWebhook: timestamp tolerance', () => {
  const cases: [string, number, boolean][] = [
    ['exactly 300 s old', T + 300, true],
    ['301 s old', T + 301, false],
    ['exactly 300 s in the future', T - 300, true],
    ['301 s in the future', T - 301, false],
    ['a day old', T + 86_400, false],
  ];
  for (const [label, nowSeconds, accepted] of cases) {
    it(`${accepted ? 'accepts' : 'refuses'} a message ${label}`, () => {
      const run = () => verifyVector({ now: at(nowSeconds) });
      if (accepted) assert.equal(run().id, VECTOR.id);
      else throwsCode(run, 'webhook.timestamp_out_of_tolerance');
    });
  }

  it('applies a custom tolerance', () => {
    assert.equal(verifyVector({ now: at(T + 10), toleranceSeconds: 10 }).id, VECTOR.id);
    throwsCode(() => verifyVector({ now: at(T + 11), toleranceSeconds: 10 }), 'webhook.timestamp_out_of_tolerance');
    throwsCode(() => verifyVector({ now: at(T - 11), toleranceSeconds: 10 }), 'webhook.timestamp_out_of_tolerance');
  });

  it('ignores sub-second parts of now when comparing whole seconds', () => {
    assert.equal(verifyVector({ now: new Date((T + 300) * 1000 + 999) }).id, VECTOR.id);
  });

  it('refuses a stale message even if its signature is valid (replay)', () => {
    throwsCode(() => verifyVector({ now: at(T + 3600) }), 'webhook.timestamp_out_of_tolerance');
  });

  for (const bad of [
    'abc',
    '1614265330abc',
    '1.614265330e9',
    '-1614265330',
    ' 1614265330',
    '1614265330.5',
    '0x60379d72',
  ]) {
    it(`refuses the non-numeric timestamp ${JSON.stringify(bad)}`, () => {
      throwsCode(
        () => verifyVector({ headers: vectorHeaders({ 'webhook-timestamp': bad }) }),
        'webhook.timestamp_out_of_tolerance',
      );
    });
  }
});

describe('secret rotation', () => {
  const oldSecret = newWebhookSecret();
  const newSecret = newWebhookSecret();
  const now = at(T);
  const body = '{"type":"payment.authorised"}';

  function signedWith(secrets: string[]): WebhookHeaders {
    return signWebhook({ id: 'msg_rot', timestamp: now, body, secrets });
  }

  it('puts one v1 signature per secret in the header, separated by a space', () => {
    const header = signedWith([oldSecret, newSecret])['webhook-signature'];
    const parts = header.split(' ');
    assert.equal(parts.length, 2);
    for (const part of parts) assert.match(part, /^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('verifies a message signed with the old secret while both are active', () => {
    assert.equal(
      verifyWebhook({ headers: { ...signedWith([oldSecret]) }, body, secrets: [oldSecret, newSecret], now }).id,
      'msg_rot',
    );
  });

  it('verifies a message signed with the new secret while both are active', () => {
    assert.equal(
      verifyWebhook({ headers: { ...signedWith([newSecret]) }, body, secrets: [oldSecret, newSecret], now }).id,
      'msg_rot',
    );
  });

  it('verifies a message signed with both by a receiver that knows only one', () => {
    const headers = { ...signedWith([oldSecret, newSecret]) };
    assert.equal(verifyWebhook({ headers, body, secrets: [newSecret], now }).id, 'msg_rot');
    assert.equal(verifyWebhook({ headers, body, secrets: [oldSecret], now }).id, 'msg_rot');
  });

  it('no longer verifies a message signed with a retired secret', () => {
    throwsCode(
      () => verifyWebhook({ headers: { ...signedWith([oldSecret]) }, body, secrets: [newSecret], now }),
      'webhook.signature_invalid',
    );
  });
});

describe('secrets', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = newWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
    assert.notEqual(newWebhookSecret(), secret);
  });

  it('accepts a secret without the whsec_ prefix, like the package does', () => {
    assert.equal(verifyVector({ secrets: [VECTOR.secret.slice(6)] }).id, VECTOR.id);
  });

  it('refuses to work without any secret', () => {
    throwsCode(() => verifyVector({ secrets: [] }), 'config.invalid');
    throwsCode(() => signWebhook({ id: 'msg_1', timestamp: at(T), body: '', secrets: [] }), 'config.invalid');
  });

  it('refuses a malformed secret instead of silently decoding garbage', () => {
    for (const bad of ['whsec_', 'whsec_not base64!', 'whsec_abc'])
      throwsCode(() => verifyVector({ secrets: [bad] }), 'config.invalid');
  });
});

describe('signWebhook', () => {
  it('writes the timestamp in whole seconds', () => {
    const headers = signWebhook({
      id: 'msg_1',
      timestamp: new Date(1614265330999),
      body: 'x',
      secrets: [VECTOR.secret],
    });
    assert.equal(headers['webhook-timestamp'], '1614265330');
  });

  it('signs raw bytes the same as the equivalent string', () => {
    const fromString = signWebhook({ id: 'msg_1', timestamp: at(T), body: 'ünï', secrets: [VECTOR.secret] });
    const fromBytes = signWebhook({
      id: 'msg_1',
      timestamp: at(T),
      body: new TextEncoder().encode('ünï'),
      secrets: [VECTOR.secret],
    });
    assert.deepEqual(fromBytes, fromString);
  });

  it('refuses an empty message id', () => {
    throwsCode(
      () => signWebhook({ id: '', timestamp: at(T), body: 'x', secrets: [VECTOR.secret] }),
      'webhook.headers_missing',
    );
  });
});
