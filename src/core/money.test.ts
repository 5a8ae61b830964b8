import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError, type ErrorCode } from './errors.ts';
import {
  CURRENCIES,
  CURRENCY_EXPONENTS,
  MAX_MINOR,
  add,
  compare,
  equals,
  exponentOf,
  formatMoney,
  fromJSON,
  isCurrency,
  isNegative,
  isPositive,
  isZero,
  money,
  multiply,
  nonNegative,
  parseCurrency,
  parseDecimal,
  parseMinor,
  subtract,
  sum,
  toDecimalString,
  toJSON,
  zero,
  type Currency,
} from './money.ts';

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => err instanceof DomainError && err.code === code);
}

const eur = (minor: bigint) => money(minor, 'EUR');
const usd = (minor: bigint) => money(minor, 'USD');

describe('currency table', () => {
  const expected: Record<string, number> = {
    EUR: 2,
    USD: 2,
    GBP: 2,
    CHF: 2,
    SEK: 2,
    NOK: 2,
    DKK: 2,
    PLN: 2,
    CZK: 2,
    ZAR: 2,
    CAD: 2,
    AUD: 2,
    NZD: 2,
    INR: 2,
    BRL: 2,
    MXN: 2,
    JPY: 0,
    KRW: 0,
    ISK: 0,
    CLP: 0,
    KWD: 3,
    BHD: 3,
    JOD: 3,
    OMR: 3,
    TND: 3,
  };
  for (const [code, exponent] of Object.entries(expected)) {
    it(`gives ${code} ISO 4217 exponent ${exponent}`, () => {
      assert.equal(exponentOf(parseCurrency(code)), exponent);
    });
  }

  it('lists every currency of the table in CURRENCIES', () => {
    assert.deepEqual([...CURRENCIES].sort(), Object.keys(CURRENCY_EXPONENTS).sort());
  });
});

describe('parseCurrency', () => {
  it('accepts a known code', () => {
    assert.equal(parseCurrency('EUR'), 'EUR');
    assert.equal(isCurrency('JPY'), true);
  });

  for (const bad of ['XXX', 'eur', 'Eur', ' EUR', 'EUR ', '', 'EURO', 'toString', '__proto__', 'constructor']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      throwsCode(() => parseCurrency(bad), 'currency.unknown');
      assert.equal(isCurrency(bad), false);
    });
  }

  it('refuses non-strings', () => {
    for (const bad of [undefined, null, 978, {}, ['EUR']]) throwsCode(() => parseCurrency(bad), 'currency.unknown');
  });
});

describe('money', () => {
  it('builds a frozen value', () => {
    const m = eur(1234n);
    assert.deepEqual(m, { minor: 1234n, currency: 'EUR' });
    assert.ok(Object.isFrozen(m));
    assert.throws(() => {
      (m as { minor: bigint }).minor = 1n;
    }, TypeError);
  });

  it('refuses a currency smuggled past the type', () => {
    throwsCode(() => money(1n, 'XXX' as Currency), 'currency.unknown');
  });

  it('refuses a number smuggled past the type', () => {
    throwsCode(() => money(12.5 as unknown as bigint, 'EUR'), 'money.invalid');
  });

  it('refuses amounts beyond the PostgreSQL bigint range', () => {
    assert.equal(eur(MAX_MINOR).minor, MAX_MINOR);
    assert.equal(eur(-MAX_MINOR).minor, -MAX_MINOR);
    throwsCode(() => eur(MAX_MINOR + 1n), 'money.invalid');
    throwsCode(() => eur(-MAX_MINOR - 1n), 'money.invalid');
  });

  it('gives zero in a currency', () => {
    assert.deepEqual(zero('JPY'), { minor: 0n, currency: 'JPY' });
  });
});

describe('parseMinor', () => {
  const accepted: [unknown, bigint][] = [
    [0n, 0n],
    [1234n, 1234n],
    [-5n, -5n],
    [0, 0n],
    [-0, 0n],
    [1234, 1234n],
    [-1234, -1234n],
    [Number.MAX_SAFE_INTEGER, 9007199254740991n],
    ['0', 0n],
    ['1234', 1234n],
    ['-1234', -1234n],
    ['9007199254740993', 9007199254740993n],
    ['9223372036854775807', MAX_MINOR],
  ];
  for (const [input, expected] of accepted) {
    it(`accepts ${typeof input} ${String(input)}`, () => {
      assert.equal(parseMinor(input), expected);
    });
  }

  const refused: [string, unknown][] = [
    ['a float amount', 1.5],
    ['a float amount given as a string', '1.5'],
    ['a trailing-dot string', '1.'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['the string Infinity', 'Infinity'],
    ['exponent notation as a string', '1e3'],
    ['exponent notation as a string, upper case', '1E3'],
    ['an unsafe integer given as a number', 2 ** 53],
    ['an unsafe large number', 1e21],
    ['an empty string', ''],
    ['a lone minus', '-'],
    ['a leading plus', '+5'],
    ['leading whitespace', ' 5'],
    ['trailing whitespace', '5 '],
    ['a newline', '5\n'],
    ['a leading zero', '05'],
    ['negative zero as a string', '-0'],
    ['hexadecimal', '0x10'],
    ['a thousands separator', '1,000'],
    ['an underscore separator', '1_000'],
    ['non-ASCII digits', '١٢'],
    ['a value beyond bigint storage', '9223372036854775808'],
    ['a very long digit string', '1'.repeat(1000)],
    ['a bigint beyond storage', MAX_MINOR + 1n],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['an object', { minor: '1' }],
    ['an array', ['1']],
  ];
  for (const [label, input] of refused) {
    it(`refuses ${label}`, () => {
      throwsCode(() => parseMinor(input), 'money.invalid');
    });
  }
});

describe('parseDecimal', () => {
  const accepted: [string, Currency, bigint][] = [
    ['12.34', 'EUR', 1234n],
    ['12.3', 'EUR', 1230n],
    ['12', 'EUR', 1200n],
    ['0.01', 'EUR', 1n],
    ['0', 'EUR', 0n],
    ['007.50', 'EUR', 750n],
    ['1000', 'JPY', 1000n],
    ['1.234', 'KWD', 1234n],
    ['1.2', 'KWD', 1200n],
    ['92233720368547758.07', 'EUR', MAX_MINOR],
  ];
  for (const [input, currency, minor] of accepted) {
    it(`reads ${input} ${currency} as ${minor} minor units`, () => {
      assert.deepEqual(parseDecimal(input, currency), money(minor, currency));
    });
  }

  it('refuses more decimals than the currency has instead of rounding', () => {
    throwsCode(() => parseDecimal('12.345', 'EUR'), 'money.invalid');
    throwsCode(() => parseDecimal('1.2345', 'KWD'), 'money.invalid');
    throwsCode(() => parseDecimal('100.0', 'JPY'), 'money.invalid');
    throwsCode(() => parseDecimal('12.340', 'EUR'), 'money.invalid');
  });

  const malformed = ['', '.5', '5.', '1,5', '1 000', ' 1', '1 ', '+1', '1e2', 'abc', '--1', '1.2.3', 'NaN', 'Infinity'];
  for (const input of malformed) {
    it(`refuses malformed input ${JSON.stringify(input)}`, () => {
      throwsCode(() => parseDecimal(input, 'EUR'), 'money.invalid');
    });
  }

  it('refuses a negative amount by default', () => {
    throwsCode(() => parseDecimal('-1.00', 'EUR'), 'money.negative');
  });

  it('accepts a negative amount when the option allows it', () => {
    assert.deepEqual(parseDecimal('-1.05', 'EUR', { allowNegative: true }), eur(-105n));
  });

  it('refuses an amount beyond storage', () => {
    throwsCode(() => parseDecimal('92233720368547758.08', 'EUR'), 'money.invalid');
  });

  it('refuses an unknown currency', () => {
    throwsCode(() => parseDecimal('1.00', 'XXX' as Currency), 'currency.unknown');
  });
});

describe('arithmetic', () => {
  it('adds amounts of one currency', () => {
    assert.deepEqual(add(eur(150n), eur(275n)), eur(425n));
  });

  it('subtracts amounts of one currency', () => {
    assert.deepEqual(subtract(eur(500n), eur(200n)), eur(300n));
    assert.deepEqual(subtract(eur(500n), eur(500n)), eur(0n));
  });

  it('refuses a subtraction that goes negative', () => {
    throwsCode(() => subtract(eur(100n), eur(101n)), 'money.negative');
  });

  it('allows a negative subtraction when asked', () => {
    assert.deepEqual(subtract(eur(100n), eur(101n), { allowNegative: true }), eur(-1n));
  });

  it('multiplies by a bigint or integer quantity', () => {
    assert.deepEqual(multiply(eur(199n), 3n), eur(597n));
    assert.deepEqual(multiply(eur(199n), 3), eur(597n));
    assert.deepEqual(multiply(eur(199n), 0), eur(0n));
  });

  it('refuses a fractional or non-finite quantity', () => {
    throwsCode(() => multiply(eur(199n), 1.5), 'money.invalid');
    throwsCode(() => multiply(eur(199n), Number.NaN), 'money.invalid');
    throwsCode(() => multiply(eur(199n), Number.POSITIVE_INFINITY), 'money.invalid');
    throwsCode(() => multiply(eur(199n), 2 ** 53), 'money.invalid');
  });

  it('refuses a negative quantity', () => {
    throwsCode(() => multiply(eur(199n), -1), 'money.negative');
    throwsCode(() => multiply(eur(199n), -1n), 'money.negative');
  });

  it('refuses a product beyond storage', () => {
    throwsCode(() => multiply(eur(MAX_MINOR), 2n), 'money.invalid');
  });

  it('sums a list, and an empty list to zero of the given currency', () => {
    assert.deepEqual(sum([eur(1n), eur(2n), eur(3n)], 'EUR'), eur(6n));
    assert.deepEqual(sum([], 'JPY'), money(0n, 'JPY'));
  });

  it('adds 0.10 and 0.20 to exactly 0.30', () => {
    assert.deepEqual(add(parseDecimal('0.10', 'EUR'), parseDecimal('0.20', 'EUR')), parseDecimal('0.30', 'EUR'));
  });

  it('stays exact beyond 2^53', () => {
    const big = eur(9007199254740993n);
    assert.equal(add(big, eur(2n)).minor, 9007199254740995n);
  });

  it('returns frozen results and leaves its inputs untouched', () => {
    const a = eur(1n);
    const b = eur(2n);
    const c = add(a, b);
    assert.ok(Object.isFrozen(c));
    assert.deepEqual([a.minor, b.minor], [1n, 2n]);
  });
});

describe('mixing currencies', () => {
  const cases: [string, () => unknown][] = [
    ['add', () => add(eur(1n), usd(1n))],
    ['subtract', () => subtract(eur(2n), usd(1n))],
    ['compare', () => compare(eur(1n), usd(1n))],
    ['sum with a foreign item', () => sum([eur(1n), usd(1n)], 'EUR')],
    ['sum in a currency other than the items', () => sum([eur(1n)], 'USD')],
  ];
  for (const [label, fn] of cases) {
    it(`throws money.currency_mismatch in ${label}`, () => {
      throwsCode(fn, 'money.currency_mismatch');
    });
  }

  it('answers false, not an error, when asked if amounts in two currencies are equal', () => {
    assert.equal(equals(eur(100n), usd(100n)), false);
  });
});

describe('comparison and predicates', () => {
  it('compares amounts', () => {
    assert.equal(compare(eur(1n), eur(2n)), -1);
    assert.equal(compare(eur(2n), eur(2n)), 0);
    assert.equal(compare(eur(3n), eur(2n)), 1);
  });

  it('tells equal amounts from different ones', () => {
    assert.equal(equals(eur(5n), eur(5n)), true);
    assert.equal(equals(eur(5n), eur(6n)), false);
  });

  it('tells zero, negative and positive apart', () => {
    assert.deepEqual([isZero(eur(0n)), isNegative(eur(0n)), isPositive(eur(0n))], [true, false, false]);
    assert.deepEqual([isZero(eur(-1n)), isNegative(eur(-1n)), isPositive(eur(-1n))], [false, true, false]);
    assert.deepEqual([isZero(eur(1n)), isNegative(eur(1n)), isPositive(eur(1n))], [false, false, true]);
  });

  it('passes a non-negative amount through nonNegative and refuses a negative one', () => {
    assert.deepEqual(nonNegative(eur(0n)), eur(0n));
    assert.deepEqual(nonNegative(eur(5n)), eur(5n));
    throwsCode(() => nonNegative(eur(-1n)), 'money.negative');
  });
});

describe('toDecimalString', () => {
  const cases: [bigint, Currency, string][] = [
    [1234n, 'EUR', '12.34'],
    [5n, 'EUR', '0.05'],
    [0n, 'EUR', '0.00'],
    [-5n, 'EUR', '-0.05'],
    [-1234n, 'EUR', '-12.34'],
    [1234n, 'JPY', '1234'],
    [-1234n, 'JPY', '-1234'],
    [1n, 'KWD', '0.001'],
    [1234567n, 'KWD', '1234.567'],
    [MAX_MINOR, 'EUR', '92233720368547758.07'],
  ];
  for (const [minor, currency, expected] of cases) {
    it(`writes ${minor} ${currency} as ${expected}`, () => {
      assert.equal(toDecimalString(money(minor, currency)), expected);
    });
  }

  it('round-trips through parseDecimal for every currency', () => {
    for (const currency of CURRENCIES) {
      for (const minor of [0n, 1n, 99n, 100n, 123456789n, -7n]) {
        const m = money(minor, currency);
        assert.deepEqual(parseDecimal(toDecimalString(m), currency, { allowNegative: true }), m);
      }
    }
  });
});

describe('formatMoney', () => {
  it('formats euros in English by default', () => {
    assert.equal(formatMoney(eur(123456n)), '€1,234.56');
  });

  it('formats with the locale given', () => {
    assert.equal(formatMoney(eur(123456n), 'de-DE').replace(/\s/g, ' '), '1.234,56 €');
  });

  it('shows no decimals for JPY and three for KWD', () => {
    assert.equal(formatMoney(money(1234n, 'JPY')), '¥1,234');
    assert.equal(formatMoney(money(1234567n, 'KWD')), 'KWD 1,234.567'.replace(' ', '\u00a0'));
  });

  it('keeps trailing zeros so the digits match the currency', () => {
    assert.equal(formatMoney(eur(100n)), '€1.00');
  });

  it('formats negative amounts', () => {
    assert.equal(formatMoney(eur(-5n)), '-€0.05');
  });

  it('formats amounts beyond 2^53 exactly, without passing through a float', () => {
    assert.equal(formatMoney(eur(MAX_MINOR)), '€92,233,720,368,547,758.07');
    assert.equal(formatMoney(eur(900719925474099301n)), '€9,007,199,254,740,993.01');
  });
});

describe('JSON', () => {
  it('writes minor units as a string', () => {
    assert.deepEqual(toJSON(eur(1234n)), { minor: '1234', currency: 'EUR' });
    assert.equal(JSON.stringify(toJSON(eur(-1n))), '{"minor":"-1","currency":"EUR"}');
  });

  it('round-trips through JSON text', () => {
    for (const m of [eur(1234n), eur(-1n), money(0n, 'JPY'), eur(MAX_MINOR)]) {
      assert.deepEqual(fromJSON(JSON.parse(JSON.stringify(toJSON(m)))), m);
    }
  });

  it('returns a frozen Money', () => {
    assert.ok(Object.isFrozen(fromJSON({ minor: '1', currency: 'EUR' })));
  });

  it('refuses a float minor amount', () => {
    throwsCode(() => fromJSON({ minor: 12.34, currency: 'EUR' }), 'money.invalid');
    throwsCode(() => fromJSON({ minor: '12.34', currency: 'EUR' }), 'money.invalid');
  });

  it('refuses a missing or unknown currency', () => {
    throwsCode(() => fromJSON({ minor: '1' }), 'currency.unknown');
    throwsCode(() => fromJSON({ minor: '1', currency: 'XXX' }), 'currency.unknown');
  });

  it('refuses a missing minor', () => {
    throwsCode(() => fromJSON({ currency: 'EUR' }), 'money.invalid');
  });

  it('refuses values that are not objects', () => {
    for (const bad of [null, undefined, '1234 EUR', 1234, ['1234', 'EUR']])
      throwsCode(() => fromJSON(bad), 'money.invalid');
  });
});
