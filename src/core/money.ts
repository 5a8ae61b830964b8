/**
 * Money is an integer count of minor units (cents, öre, fils) plus an ISO 4217 currency, never a
 * float: 0.1 + 0.2 !== 0.3, and a payment system must add exactly. Amounts cross the wire as strings of
 * digits (JSON has no bigint); humans type decimals, which only parseDecimal accepts, at the edge.
 *
 * Values are frozen so that a Money held by an invoice cannot be changed by the code that computed it.
 */
import { DomainError } from './errors.ts';

/** ISO 4217 minor-unit exponents; the one table every conversion reads. Adding a currency is one line. */
export const CURRENCY_EXPONENTS = {
  EUR: 2,
  USD: 2,
  GBP: 2,
  CHF: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  CZK: 2,
  HUF: 2,
  RON: 2,
  JPY: 0,
  KRW: 0,
  ISK: 0,
  CLP: 0,
  VND: 0,
  KWD: 3,
  BHD: 3,
  JOD: 3,
  OMR: 3,
  TND: 3,
  ZAR: 2,
  CAD: 2,
  AUD: 2,
  NZD: 2,
  INR: 2,
  BRL: 2,
  MXN: 2,
  SGD: 2,
  HKD: 2,
  CNY: 2,
  AED: 2,
} as const satisfies Record<string, 0 | 2 | 3>;

export type Currency = keyof typeof CURRENCY_EXPONENTS;

export const CURRENCIES: readonly Currency[] = Object.freeze(Object.keys(CURRENCY_EXPONENTS) as Currency[]);

export interface Money {
  readonly minor: bigint;
  readonly currency: Currency;
}

export interface MoneyJSON {
  readonly minor: string;
  readonly currency: Currency;
}

/** Largest magnitude we accept: PostgreSQL bigint, where every party stores amounts. */
export const MAX_MINOR = 2n ** 63n - 1n;

/** Tells whether a value is a supported currency code, exactly as written (no case folding). */
export function isCurrency(value: unknown): value is Currency {
  return typeof value === 'string' && Object.hasOwn(CURRENCY_EXPONENTS, value);
}

/** Refuses anything not in the table, so an unsupported currency stops at the edge, not in a ledger. */
export function parseCurrency(value: unknown): Currency {
  if (!isCurrency(value))
    throw new DomainError('currency.unknown', {
      currency: typeof value === 'string' ? value.slice(0, 8) : typeof value,
    });
  return value;
}

/** Digits after the decimal point for a currency, e.g. 2 for EUR, 0 for JPY, 3 for KWD. */
export function exponentOf(currency: Currency): 0 | 2 | 3 {
  return CURRENCY_EXPONENTS[parseCurrency(currency)];
}

/** The only constructor: checks at runtime what the types claim, since values arrive from casts and storage. */
export function money(minor: bigint, currency: Currency): Money {
  if (typeof minor !== 'bigint') throw new DomainError('money.invalid', { reason: 'not_bigint' });
  if (minor > MAX_MINOR || minor < -MAX_MINOR) throw new DomainError('money.invalid', { reason: 'out_of_range' });
  return Object.freeze({ minor, currency: parseCurrency(currency) });
}

/** Zero in a currency: the neutral start of a sum. */
export function zero(currency: Currency): Money {
  return money(0n, currency);
}

const INTEGER_STRING = /^-?(0|[1-9][0-9]*)$/;

/**
 * Reads minor units from JSON-ish input. Strings are the wire format (JSON numbers lose precision
 * beyond 2^53); numbers are tolerated only while they are exact, i.e. safe integers.
 * Leading zeros and '+' are refused so that each amount has exactly one spelling.
 */
export function parseMinor(value: unknown): bigint {
  if (typeof value === 'bigint') return inRange(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new DomainError('money.invalid', { reason: 'not_a_safe_integer' });
    return inRange(BigInt(value));
  }
  if (typeof value === 'string') {
    // Length check first: a megabyte of digits should not reach the regex or BigInt.
    if (value.length > 21 || !INTEGER_STRING.test(value) || value === '-0') {
      throw new DomainError('money.invalid', { reason: 'not_an_integer_string' });
    }
    return inRange(BigInt(value));
  }
  throw new DomainError('money.invalid', { reason: 'wrong_type' });
}

function inRange(minor: bigint): bigint {
  if (minor > MAX_MINOR || minor < -MAX_MINOR) throw new DomainError('money.invalid', { reason: 'out_of_range' });
  return minor;
}

const DECIMAL_STRING = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

/**
 * Reads a decimal typed by a human ("12.34", "12.3", "12") into minor units. More decimals than the
 * currency has are refused rather than rounded: silently rounding someone's amount is worse than asking.
 * Negative amounts are refused unless the caller says they make sense (e.g. an adjustment).
 */
export function parseDecimal(input: string, currency: Currency, options: { allowNegative?: boolean } = {}): Money {
  const exponent = exponentOf(currency);
  if (typeof input !== 'string' || input.length > 40)
    throw new DomainError('money.invalid', { reason: 'not_a_decimal' });
  const match = DECIMAL_STRING.exec(input);
  if (match === null) throw new DomainError('money.invalid', { reason: 'not_a_decimal' });
  const [, sign = '', whole = '0', fraction = ''] = match;
  if (fraction.length > exponent) {
    throw new DomainError('money.invalid', { reason: 'too_many_decimals', maxDecimals: exponent });
  }
  if (sign === '-' && options.allowNegative !== true) throw new DomainError('money.negative');
  const magnitude = BigInt(whole + fraction.padEnd(exponent, '0'));
  return money(sign === '-' ? -magnitude : magnitude, currency);
}

function assertSameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new DomainError('money.currency_mismatch', { left: a.currency, right: b.currency });
  }
}

/** Sum of two amounts of the same currency. */
export function add(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(a.minor + b.minor, a.currency);
}

/** Difference of two amounts; a negative result is refused unless the caller expects one. */
export function subtract(a: Money, b: Money, options: { allowNegative?: boolean } = {}): Money {
  assertSameCurrency(a, b);
  const minor = a.minor - b.minor;
  if (minor < 0n && options.allowNegative !== true) {
    throw new DomainError('money.negative', { left: a.minor.toString(), right: b.minor.toString() });
  }
  return money(minor, a.currency);
}

/** Price times quantity; a quantity must be a non-negative integer (there is no half or minus one item). */
export function multiply(m: Money, quantity: bigint | number): Money {
  let q: bigint;
  if (typeof quantity === 'bigint') q = quantity;
  else if (Number.isSafeInteger(quantity)) q = BigInt(quantity);
  else throw new DomainError('money.invalid', { reason: 'quantity_not_an_integer' });
  if (q < 0n) throw new DomainError('money.negative', { reason: 'negative_quantity' });
  return money(m.minor * q, m.currency);
}

/** Sum of a list; the currency is explicit so that an empty list still has one. */
export function sum(list: readonly Money[], currency: Currency): Money {
  let total = zero(currency);
  for (const m of list) total = add(total, m);
  return total;
}

/** Orders two amounts of the same currency: -1, 0 or 1 (for sort and limit checks). */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  assertSameCurrency(a, b);
  return a.minor < b.minor ? -1 : a.minor > b.minor ? 1 : 0;
}

/**
 * Same amount in the same currency. Unlike compare it does not throw on a currency mismatch:
 * "is the paid amount the invoice's amount?" has the plain answer no.
 */
export function equals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.minor === b.minor;
}

/** Whether the amount is zero. */
export function isZero(m: Money): boolean {
  return m.minor === 0n;
}

/** Whether the amount is below zero. */
export function isNegative(m: Money): boolean {
  return m.minor < 0n;
}

/** Whether the amount is above zero (a payable amount). */
export function isPositive(m: Money): boolean {
  return m.minor > 0n;
}

/** Guards places where a negative amount is a bug or an attack (prices, invoices, refunds). */
export function nonNegative(m: Money): Money {
  if (m.minor < 0n) throw new DomainError('money.negative', { minor: m.minor.toString(), currency: m.currency });
  return m;
}

/** Exact decimal string ("-12.34", "1234", "1.500") built from the bigint, never through a float. */
export function toDecimalString(m: Money): string {
  const exponent = exponentOf(m.currency);
  const negative = m.minor < 0n;
  const digits = (negative ? -m.minor : m.minor).toString();
  if (exponent === 0) return (negative ? '-' : '') + digits;
  const padded = digits.padStart(exponent + 1, '0');
  const whole = padded.slice(0, padded.length - exponent);
  const fraction = padded.slice(padded.length - exponent);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** Human display at the edge only; Intl receives a decimal string, which it formats exactly. */
export function formatMoney(m: Money, locale: string = 'en'): string {
  return currencyFormat(locale, m.currency).format(toDecimalString(m) as `${number}`);
}

/** One formatter per locale and currency: building an Intl.NumberFormat costs far more than using one (a profile of the shop's pages showed it). */
const formats = new Map<string, Intl.NumberFormat>();
function currencyFormat(locale: string, currency: Currency): Intl.NumberFormat {
  const key = `${locale}\u0000${currency}`;
  let format = formats.get(key);
  if (format === undefined) {
    const exponent = exponentOf(currency);
    format = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      // Our table, not ICU's, decides the digits, so that display and storage agree.
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    // Bounded anyway: the currencies are our table's (exponentOf refuses others) and the locales the code passes.
    if (formats.size < 256) formats.set(key, format);
  }
  return format;
}

/** Wire form: minor as a string because JSON numbers cannot carry every bigint exactly. */
export function toJSON(m: Money): MoneyJSON {
  return { minor: m.minor.toString(), currency: m.currency };
}

/** Reads the wire form back; validates both fields because the wire is untrusted. */
export function fromJSON(value: unknown): Money {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DomainError('money.invalid', { reason: 'not_an_object' });
  }
  const record = value as Record<string, unknown>;
  return money(parseMinor(record['minor']), parseCurrency(record['currency']));
}
