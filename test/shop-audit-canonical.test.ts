// The form an audit entry's hash covers must stay byte for byte what it was when the entries already
// stored were sealed: the direct writer (src/shop/storage/audit.ts entryBody) against the form the
// chain was first hashed with, JSON.stringify of the data rebuilt with sorted keys (kept here as the
// reference), on data with index-like keys, nesting, arrays, Unicode and escapes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { entryBody, sealedHash } from '../src/shop/storage/audit.ts';

function referenceCanonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(referenceCanonical);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, referenceCanonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

type Entry = Parameters<typeof entryBody>[0];
const referenceBody = (e: Entry) =>
  JSON.stringify([e.id, e.at.toISOString(), e.actor, e.action, e.subject, referenceCanonical(e.data)]);

// A deterministic generator of JSON values as jsonb gives them back (objects, arrays, strings, numbers, booleans, null).
function* values(seed: number, count: number): Generator<unknown> {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const keys = [
    'b',
    'a',
    '10',
    '2',
    '0',
    'Z',
    'é',
    'ä½',
    '01',
    '-1',
    '1.5',
    '4294967295',
    '4294967294',
    ' ',
    'a"b',
    'x\ny',
  ];
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 3 || r < 0.3) {
      const p = next();
      if (p < 0.2) return null;
      if (p < 0.4) return next() < 0.5;
      if (p < 0.7) return Math.round((next() - 0.5) * 1e6) / (next() < 0.5 ? 1 : 100);
      return keys[Math.floor(next() * keys.length)]! + '\u2028\\'.slice(0, Math.floor(next() * 3));
    }
    if (r < 0.5) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(next() * 6); i > 0; i--) o[keys[Math.floor(next() * keys.length)]!] = value(depth + 1);
    return o;
  };
  for (let i = 0; i < count; i++) yield value(0);
}

describe('audit entry hash form', () => {
  it('writes every entry body exactly as the reference form, so hashes stored before still verify', () => {
    let n = 0;
    for (const data of values(7, 5000)) {
      const e: Entry = {
        id: `aud_${n++}`,
        at: new Date(1_767_225_600_000 + n),
        actor: 'gateway',
        action: 'invoice.pay',
        subject: 'inv_1',
        data,
      };
      assert.equal(entryBody(e), referenceBody(e), JSON.stringify(data));
    }
  });

  it('orders index-like keys first and numerically, the rest sorted, at every depth', () => {
    const e: Entry = {
      id: 'aud_1',
      at: new Date(Date.UTC(2026, 0, 1)),
      actor: 'usr_1',
      action: 'order.placed',
      subject: 'ord_1',
      data: { b: 1, 10: 'ten', a: { z: [{ y: 1, x: 2 }], 2: 'two' }, 2: 'two', '01': 'zero-one' },
    };
    assert.equal(
      entryBody(e),
      '["aud_1","2026-01-01T00:00:00.000Z","usr_1","order.placed","ord_1",{"2":"two","10":"ten","01":"zero-one","a":{"2":"two","z":[{"x":2,"y":1}]},"b":1}]',
    );
    const expected = createHash('sha256')
      .update(`countersign:audit:v2\n7\n${'0'.repeat(64)}\n`)
      .update(referenceBody(e))
      .digest('hex');
    assert.equal(sealedHash('0'.repeat(64), 7, e), expected);
  });
});
