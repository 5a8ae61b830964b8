/**
 * Prefixed, time-sortable ids: `inv_01J9Z3K4...`. The prefix says what an id points at (a refund id
 * pasted where a payment id belongs is refused, in logs it is readable); the body is a ULID — 48 bits of
 * millisecond time then 80 random bits, 26 Crockford base32 characters — so ids sort by creation time
 * in indexes and URLs without exposing a counter.
 *
 * Ordering is to the millisecond only: two ids made in the same millisecond sort randomly. We do not
 * keep a monotonic counter in process memory because ids are minted on many nodes anyway.
 */
import { randomFillSync } from 'node:crypto';
import { DomainError } from './errors.ts';

/** Closed table of prefixes (what each names); a typo in a prefix fails the typecheck. One line to add. */
export const ID_PREFIXES = {
  inv: 'invoice',
  ord: 'order',
  line: 'order line',
  cart: 'cart',
  prd: 'product',
  rcp: 'receipt',
  pay: 'payment',
  ps: 'payment session',
  att: 'payment attempt',
  cap: 'capture',
  ref: 'refund',
  evt: 'event',
  msg: 'webhook message',
  whd: 'webhook delivery',
  whe: 'webhook endpoint',
  usr: 'user',
  ses: 'login session',
  job: 'job',
  aud: 'audit entry',
  out: 'outbox entry',
  mer: 'merchant',
  key: 'api key',
  card: 'card',
  chd: 'cardholder',
  acc: 'bank account',
  apr: 'approval request',
  txn: 'bank transaction',
  bauth: 'bank authorisation',
  bref: 'bank refund',
  bcb: 'bank callback',
  req: 'http request',
  sreq: 'signed server-to-server request',
  dlv: 'delivery method',
  adr: 'address',
  mail: 'outgoing e-mail',
  rot: 'webhook secret rotation',
  dp: 'dispute (gateway)',
  bdsp: 'dispute (bank)',
  po: 'payout',
} as const;

export type IdPrefix = keyof typeof ID_PREFIXES;

/** An id of a given kind; a template type, so `Id<'inv'>` cannot be passed where `Id<'pay'>` is expected. */
export type Id<P extends IdPrefix> = `${P}_${string}`;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_TIME = 2 ** 48 - 1;
// First character carries only 3 bits of the 48-bit time (10 chars × 5 bits = 50), hence [0-7].
const BODY = '[0-7][0-9A-HJKMNP-TV-Z]{25}';
const patterns = new Map<string, RegExp>();

function patternFor(prefix: string): RegExp {
  let pattern = patterns.get(prefix);
  if (pattern === undefined) {
    pattern = new RegExp(`^${prefix}_${BODY}$`);
    patterns.set(prefix, pattern);
  }
  return pattern;
}

function assertPrefix(prefix: string): asserts prefix is IdPrefix {
  if (!Object.hasOwn(ID_PREFIXES, prefix)) throw new DomainError('id.invalid', { reason: 'unknown_prefix' });
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    // Arithmetic on a safe integer (< 2^48), not bit operators, which would truncate to 32 bits.
    const digit = rest % 32;
    out = CROCKFORD.charAt(digit) + out;
    rest = (rest - digit) / 32;
  }
  return out;
}

// The random part's bytes come from a pool filled 4 KB at a time (each id takes the next 10, never
// the same twice), as Node's randomUUID() pools its own: one randomBytes() call per id was 1.2% of the
// gateway's CPU under load (an id per request, event, job and signed call).
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;

function nextRandom(n: number): Uint8Array {
  if (poolAt + n > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  poolAt += n;
  return POOL.subarray(poolAt - n, poolAt);
}

function encodeRandom(bytes: Uint8Array): string {
  // 10 bytes = 80 bits = 16 characters of 5 bits, read as one big number.
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = CROCKFORD.charAt(Number(value & 31n)) + out;
    value >>= 5n;
  }
  return out;
}

/**
 * Mints a new id. The one place in core allowed to read the clock, since an id's time is only an
 * ordering hint; tests pass `now` to make the time part deterministic.
 */
export function newId<P extends IdPrefix>(prefix: P, now: Date | number = Date.now()): Id<P> {
  assertPrefix(prefix);
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME)
    throw new DomainError('id.invalid', { reason: 'time_out_of_range' });
  return `${prefix}_${encodeTime(ms)}${encodeRandom(nextRandom(10))}`;
}

/** Whether a value is a well-formed id of this kind (canonical upper-case body only). */
export function isId<P extends IdPrefix>(prefix: P, value: unknown): value is Id<P> {
  return typeof value === 'string' && Object.hasOwn(ID_PREFIXES, prefix) && patternFor(prefix).test(value);
}

/** Validates an id arriving from outside (path, body, webhook) before it reaches storage. */
export function parseId<P extends IdPrefix>(prefix: P, value: unknown): Id<P> {
  if (!isId(prefix, value)) throw new DomainError('id.invalid', { expected: prefix });
  return value;
}

/** Creation time encoded in an id, for diagnostics; never trust it for authorisation or expiry. */
export function idTime(prefix: IdPrefix, value: string): Date {
  const id = parseId(prefix, value);
  const body = id.slice(prefix.length + 1);
  let ms = 0;
  for (const char of body.slice(0, 10)) ms = ms * 32 + CROCKFORD.indexOf(char);
  return new Date(ms);
}
