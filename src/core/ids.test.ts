import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from './errors.ts';
import { ID_PREFIXES, idTime, isId, newId, parseId, type Id, type IdPrefix } from './ids.ts';

const CROCKFORD_BODY = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

function throwsInvalid(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof DomainError && err.code === 'id.invalid');
}

describe('newId', () => {
  for (const prefix of Object.keys(ID_PREFIXES) as IdPrefix[]) {
    it(`makes a valid ${prefix}_ id`, () => {
      const id = newId(prefix);
      assert.ok(id.startsWith(`${prefix}_`));
      assert.match(id.slice(prefix.length + 1), CROCKFORD_BODY);
      assert.equal(isId(prefix, id), true);
    });
  }

  it('includes the required prefixes', () => {
    for (const prefix of [
      'inv',
      'ord',
      'pay',
      'ps',
      'att',
      'ref',
      'evt',
      'msg',
      'usr',
      'job',
      'mer',
      'card',
      'apr',
      'whd',
      'key',
    ]) {
      assert.ok(Object.hasOwn(ID_PREFIXES, prefix), prefix);
    }
  });

  it('encodes the time like a ULID (spec example 1469918176385 → 01ARYZ6S41)', () => {
    assert.equal(newId('inv', 1469918176385).slice(4, 14), '01ARYZ6S41');
  });

  it('encodes the epoch and the largest 48-bit time at the ends of the range', () => {
    assert.equal(newId('inv', 0).slice(4, 14), '0000000000');
    assert.equal(newId('inv', 2 ** 48 - 1).slice(4, 14), '7ZZZZZZZZZ');
  });

  it('accepts the time as a Date', () => {
    assert.equal(newId('inv', new Date(1469918176385)).slice(4, 14), '01ARYZ6S41');
  });

  it('sorts ids by creation time, to the millisecond', () => {
    const times = [0, 1, 31, 32, 1000, 2 ** 40, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1];
    const ids = times.map((t) => newId('evt', t));
    assert.deepEqual([...ids].sort(), ids);
  });

  it('makes distinct ids within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('evt', 1_700_000_000_000)));
    assert.equal(ids.size, 10_000);
  });

  it('uses every Crockford character in the random part (randomness is not stuck)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of newId('pay', 0).slice(14)) seen.add(c);
    assert.equal(seen.size, 32);
  });

  it('refuses a time outside the 48-bit range', () => {
    throwsInvalid(() => newId('inv', -1));
    throwsInvalid(() => newId('inv', 2 ** 48));
    throwsInvalid(() => newId('inv', 1.5));
    throwsInvalid(() => newId('inv', new Date(Number.NaN)));
  });

  it('refuses a prefix outside the table at runtime too', () => {
    // @ts-expect-error a typo in a prefix must fail the typecheck
    throwsInvalid(() => newId('invv'));
  });

  it('gives the id a type that names its kind', () => {
    const id: Id<'inv'> = newId('inv');
    // @ts-expect-error an invoice id is not a payment id
    const wrong: Id<'pay'> = id;
    assert.ok(wrong);
  });
});

describe('isId / parseId', () => {
  const good = newId('inv', 1_700_000_000_000);

  it('accepts a well-formed id of the expected kind', () => {
    assert.equal(isId('inv', good), true);
    assert.equal(parseId('inv', good), good);
  });

  const bad: [string, unknown][] = [
    ['another kind of id', good.replace(/^inv_/, 'pay_')],
    ['an id without prefix', good.slice(4)],
    ['a prefix without separator', `inv${good.slice(4)}`],
    ['a lower-case body', good.toLowerCase()],
    ['a body one character short', good.slice(0, -1)],
    ['a body one character long', `${good}0`],
    ['the letter I, excluded from Crockford base32', `${good.slice(0, -1)}I`],
    ['the letter L', `${good.slice(0, -1)}L`],
    ['the letter O', `${good.slice(0, -1)}O`],
    ['the letter U', `${good.slice(0, -1)}U`],
    ['a time beyond 48 bits (first char 8)', `inv_8${good.slice(5)}`],
    ['surrounding whitespace', ` ${good} `],
    ['a trailing newline', `${good}\n`],
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', { id: good }],
  ];
  for (const [label, value] of bad) {
    it(`refuses ${label}`, () => {
      assert.equal(isId('inv', value), false);
      throwsInvalid(() => parseId('inv', value));
    });
  }

  it('names the expected kind in the error details', () => {
    assert.throws(
      () => parseId('ref', good),
      (err: unknown) => err instanceof DomainError && err.details?.['expected'] === 'ref',
    );
  });

  it('does not confuse a prefix with a longer one sharing its start', () => {
    const card = newId('card');
    assert.equal(isId('card', card), true);
    assert.equal(isId('cap', card), false);
  });

  it('refuses prefixes inherited from Object.prototype', () => {
    assert.equal(isId('constructor' as IdPrefix, 'constructor_01ARYZ6S41TSV4RRFFQ69G5FAV'), false);
  });
});

describe('idTime', () => {
  it('reads back the creation time of an id', () => {
    assert.equal(idTime('inv', newId('inv', 1469918176385)).getTime(), 1469918176385);
    assert.equal(idTime('inv', newId('inv', 2 ** 48 - 1)).getTime(), 2 ** 48 - 1);
  });

  it('refuses a malformed id', () => {
    throwsInvalid(() => idTime('inv', 'inv_nope'));
  });
});
