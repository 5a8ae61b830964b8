import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { DomainError, type ErrorCode } from './errors.ts';
import { signRequest, verifyRequest, type SignedRequestParts } from './request-signature.ts';
import { newWebhookSecret, signWebhook, verifyWebhook } from './webhook-signature.ts';

const at = (seconds: number) => new Date(seconds * 1000);
const T = 1_796_140_800;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const VOID: SignedRequestParts = {
  method: 'POST',
  target: '/api/v1/authorizations/bauth_01JAAAAAAAAAAAAAAAAAAAAAAA/void',
  body: '{}',
};
const ID = 'sreq_01JBBBBBBBBBBBBBBBBBBBBBBB';

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => err instanceof DomainError && err.code === code, `expected ${code}`);
}

const sign = (parts: SignedRequestParts = VOID, o: { id?: string; time?: number; secrets?: string[] } = {}) =>
  signRequest({ ...parts, id: o.id ?? ID, timestamp: at(o.time ?? T), secrets: o.secrets ?? [SECRET] });

const verify = (headers: object, parts: SignedRequestParts = VOID, o: { now?: number; secrets?: string[] } = {}) =>
  verifyRequest({
    ...parts,
    headers: headers as Record<string, string>,
    secrets: o.secrets ?? [SECRET],
    now: at(o.now ?? T),
  });

describe('request signature: the signed bytes', () => {
  it('is HMAC-SHA256 under the derived request key over "r1\\n" method, target, id, timestamp and the raw body, as src/bank/README.md states', () => {
    const key = createHmac('sha256', Buffer.from(SECRET.slice('whsec_'.length), 'base64'))
      .update('countersign-request-v1')
      .digest();
    const mac = createHmac('sha256', key).update(`r1\nPOST\n${VOID.target}\n${ID}\n${T}\n{}`).digest('base64');
    assert.deepEqual(sign(), {
      'signed-request-id': ID,
      'signed-request-timestamp': String(T),
      'signed-request-signature': `r1,${mac}`,
    });
  });

  it('verifies what it signed, with header names in any case, GET with the empty body, and a query', () => {
    assert.deepEqual(verify(sign()), { id: ID, timestamp: at(T) });
    const upper = Object.fromEntries(Object.entries(sign()).map(([k, v]) => [k.toUpperCase(), v]));
    assert.equal(verify(upper).id, ID);
    const get: SignedRequestParts = { method: 'GET', target: '/api/v1/authorizations?gateway_ref=ps_1', body: '' };
    assert.equal(verify(sign(get), get).id, ID);
    const bytes: SignedRequestParts = { ...VOID, body: new TextEncoder().encode('{}') };
    assert.equal(verify(sign(bytes), VOID).id, ID, 'bytes and the same text sign alike');
  });
});

describe('request signature: every covered part changed is refused', () => {
  const other = 'bauth_01JCCCCCCCCCCCCCCCCCCCCCCC';
  const cases: Array<{
    name: string;
    headers?: (h: Record<string, string>) => Record<string, string>;
    parts?: SignedRequestParts;
    now?: number;
    code: ErrorCode;
  }> = [
    {
      name: "the same void replayed against another authorisation's path",
      parts: { ...VOID, target: `/api/v1/authorizations/${other}/void` },
      code: 'request.signature_invalid',
    },
    {
      name: 'the path of another action (capture)',
      parts: { ...VOID, target: VOID.target.replace('/void', '/capture') },
      code: 'request.signature_invalid',
    },
    { name: 'a query added', parts: { ...VOID, target: `${VOID.target}?x=1` }, code: 'request.signature_invalid' },
    {
      name: 'the query changed',
      parts: { method: 'GET', target: '/api/v1/authorizations?gateway_ref=ps_2', body: '' },
      code: 'request.signature_invalid',
    },
    {
      name: 'the path percent-encoded differently',
      parts: { ...VOID, target: VOID.target.replace('bauth_', 'bauth%5F') },
      code: 'request.signature_invalid',
    },
    { name: 'the method changed (POST to PUT)', parts: { ...VOID, method: 'PUT' }, code: 'request.signature_invalid' },
    { name: 'the method in lower case', parts: { ...VOID, method: 'post' }, code: 'request.signature_invalid' },
    { name: 'the body changed', parts: { ...VOID, body: '{"a":1}' }, code: 'request.signature_invalid' },
    { name: 'the body emptied', parts: { ...VOID, body: '' }, code: 'request.signature_invalid' },
    {
      name: 'the id changed',
      headers: (h) => ({ ...h, 'signed-request-id': 'sreq_01JDDDDDDDDDDDDDDDDDDDDDDD' }),
      code: 'request.signature_invalid',
    },
    {
      name: 'the timestamp changed by one second',
      headers: (h) => ({ ...h, 'signed-request-timestamp': String(T + 1) }),
      code: 'request.signature_invalid',
    },
    { name: 'the timestamp 301 s old', now: T + 301, code: 'request.timestamp_out_of_tolerance' },
    { name: 'the timestamp 301 s ahead', now: T - 301, code: 'request.timestamp_out_of_tolerance' },
    {
      name: 'a non-numeric timestamp',
      headers: (h) => ({ ...h, 'signed-request-timestamp': `${T}abc` }),
      code: 'request.timestamp_out_of_tolerance',
    },
    {
      name: 'the signature of another secret',
      headers: () => sign(VOID, { secrets: [newWebhookSecret()] }) as never,
      code: 'request.signature_invalid',
    },
    {
      name: 'the signature truncated by one character',
      headers: (h) => ({ ...h, 'signed-request-signature': h['signed-request-signature']!.slice(0, -1) }),
      code: 'request.signature_invalid',
    },
    {
      name: 'the version tag changed (v1)',
      headers: (h) => ({ ...h, 'signed-request-signature': h['signed-request-signature']!.replace(/^r1,/, 'v1,') }),
      code: 'request.signature_invalid',
    },
    {
      name: 'the signature without its version',
      headers: (h) => ({ ...h, 'signed-request-signature': h['signed-request-signature']!.slice(3) }),
      code: 'request.signature_invalid',
    },
    {
      name: 'an id with a newline',
      headers: (h) => ({ ...h, 'signed-request-id': `${ID}\n1` }),
      code: 'request.signature_invalid',
    },
    {
      name: 'the signature header missing',
      headers: ({ 'signed-request-signature': _s, ...h }) => h,
      code: 'request.signature_invalid',
    },
    {
      name: 'the id header missing',
      headers: ({ 'signed-request-id': _s, ...h }) => h,
      code: 'request.signature_invalid',
    },
    {
      name: 'the timestamp header missing',
      headers: ({ 'signed-request-timestamp': _s, ...h }) => h,
      code: 'request.signature_invalid',
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const headers = { ...sign() } as Record<string, string>;
      throwsCode(() => verify(c.headers ? c.headers(headers) : headers, c.parts ?? VOID, { now: c.now ?? T }), c.code);
    });
  }

  it('accepts the timestamp at exactly 300 s either way', () => {
    assert.equal(verify(sign(), VOID, { now: T + 300 }).id, ID);
    assert.equal(verify(sign(), VOID, { now: T - 300 }).id, ID);
  });
});

describe('request signature: rotation with two secrets', () => {
  const current = newWebhookSecret();
  const previous = newWebhookSecret();

  it('signs once per active secret, and a receiver with either secret accepts', () => {
    const headers = sign(VOID, { secrets: [current, previous] });
    assert.equal(headers['signed-request-signature'].split(' ').length, 2);
    assert.equal(verify(headers, VOID, { secrets: [current] }).id, ID);
    assert.equal(verify(headers, VOID, { secrets: [previous] }).id, ID);
  });

  it('a receiver mid-rotation accepts a sender still on the previous secret, and refuses it once that secret is retired', () => {
    const old = sign(VOID, { secrets: [previous] });
    assert.equal(verify(old, VOID, { secrets: [current, previous] }).id, ID);
    throwsCode(() => verify(old, VOID, { secrets: [current] }), 'request.signature_invalid');
  });
});

describe('request signature: never accepted as a webhook signature, nor the reverse', () => {
  it('refuses webhook headers (same secret, same id, timestamp and body) as a request signature, however they are renamed', () => {
    const webhook = signWebhook({ id: ID, timestamp: at(T), body: VOID.body, secrets: [SECRET] });
    throwsCode(() => verify({ ...webhook }), 'request.signature_invalid');
    const mac = webhook['webhook-signature'].slice(3);
    for (const tag of ['r1', 'v1']) {
      const renamed = {
        'signed-request-id': ID,
        'signed-request-timestamp': String(T),
        'signed-request-signature': `${tag},${mac}`,
      };
      throwsCode(() => verify(renamed), 'request.signature_invalid');
    }
  });

  it('refuses request headers as a webhook signature, however they are renamed', () => {
    const request = sign();
    const mac = request['signed-request-signature'].slice(3);
    const renamed = { 'webhook-id': ID, 'webhook-timestamp': String(T), 'webhook-signature': `v1,${mac}` };
    throwsCode(
      () => verifyWebhook({ headers: renamed, body: VOID.body, secrets: [SECRET], now: at(T) }),
      'webhook.signature_invalid',
    );
    throwsCode(
      () => verifyWebhook({ headers: { ...request }, body: VOID.body, secrets: [SECRET], now: at(T) }),
      'webhook.headers_missing',
    );
  });

  it("a webhook whose id spells out the request's signed prefix still does not verify as that request", () => {
    // Without the derived key the two schemes could meet on the same bytes; with it they cannot.
    const prefix = `r1\nPOST\n${VOID.target}\n${ID}`;
    const webhook = signWebhook({ id: prefix, timestamp: at(T), body: VOID.body, secrets: [SECRET] });
    const crafted = {
      'signed-request-id': ID,
      'signed-request-timestamp': String(T),
      'signed-request-signature': `r1,${webhook['webhook-signature'].slice(3)}`,
    };
    throwsCode(() => verify(crafted), 'request.signature_invalid');
  });
});

describe('request signature: the signer refuses what no receiver would accept', () => {
  const cases: Array<[string, { id?: string; target?: string; method?: string }]> = [
    ['an empty id', { id: '' }],
    ['an id with a space', { id: 'a b' }],
    ['a target without its leading slash', { target: 'api/v1' }],
    ['a target with a fragment', { target: '/a#b' }],
    ['a lower-case method', { method: 'get' }],
  ];
  for (const [name, input] of cases) {
    it(`refuses to sign ${name}`, () => {
      throwsCode(
        () => signRequest({ ...VOID, ...input, id: input.id ?? ID, timestamp: at(T), secrets: [SECRET] }),
        'config.invalid',
      );
    });
  }
});
