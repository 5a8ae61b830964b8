/**
 * The parts both signature schemes share (webhook-signature.ts for events, request-signature.ts for
 * server-to-server requests): secrets in the `whsec_<base64>` form, one signature per active secret
 * so that a rotation has two valid at once, a timestamp tolerated both ways, and constant-time
 * comparison of `<version>,<base64>` signatures.
 */
import { timingSafeEqual } from 'node:crypto';
import { DomainError, type ErrorCode } from './errors.ts';

/** The prefix of secrets in the form Standard Webhooks libraries expect. */
export const SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const DEFAULT_TOLERANCE_SECONDS = 300;

function secretKey(secret: string): Buffer {
  // Secrets are configuration: a malformed one is a deployment error, not a bad request.
  if (typeof secret !== 'string') throw new DomainError('config.invalid', { reason: 'webhook_secret_not_a_string' });
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded.length === 0 || !BASE64.test(encoded)) {
    throw new DomainError('config.invalid', { reason: 'webhook_secret_not_base64' });
  }
  return Buffer.from(encoded, 'base64');
}

/** The HMAC keys of the active secrets (two during a rotation); none is a configuration error. */
export function signingKeys(secrets: readonly string[]): Buffer[] {
  if (secrets.length === 0) throw new DomainError('config.invalid', { reason: 'no_webhook_secret' });
  return secrets.map(secretKey);
}

/** Whole seconds since the epoch, as both schemes send them. */
export function toSeconds(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new DomainError('config.invalid', { reason: 'invalid_date' });
  return Math.floor(ms / 1000);
}

/**
 * The id, timestamp and signature headers under the scheme's `names`, looked up case-insensitively
 * (HTTP names are, and frameworks differ in how they hand them over), with the names of those missing.
 */
export function readSignatureHeaders(
  headers: Readonly<Record<string, string | undefined>>,
  names: { readonly id: string; readonly timestamp: string; readonly signature: string },
): { id: string; timestamp: string; signature: string; missing: string[] } {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(name.toLowerCase(), value);
  }
  const id = map.get(names.id) ?? '';
  const timestamp = map.get(names.timestamp) ?? '';
  const signature = map.get(names.signature) ?? '';
  const missing = [
    ...(id === '' ? [names.id] : []),
    ...(timestamp === '' ? [names.timestamp] : []),
    ...(signature === '' ? [names.signature] : []),
  ];
  return { id, timestamp, signature, missing };
}

/** Parses a timestamp header and checks it is within `tolerance` seconds of now, both ways; throws `code`. */
export function checkTimestamp(header: string, now: Date, tolerance: number, code: ErrorCode): number {
  // Digits only: parseInt would accept "1614265330abc" or "1e9"; a sender we trust never sends those.
  if (!/^[0-9]{1,12}$/.test(header)) throw new DomainError(code, { reason: 'not_numeric' });
  const timestamp = Number(header);
  const nowSeconds = toSeconds(now);
  // Both directions: an old message may be a replay, a future one a replay prepared in advance.
  if (nowSeconds - timestamp > tolerance) throw new DomainError(code, { reason: 'too_old' });
  if (timestamp - nowSeconds > tolerance) throw new DomainError(code, { reason: 'too_new' });
  return timestamp;
}

/**
 * True when one of the space-separated `<version>,<base64>` entries of `header` equals one of the
 * expected base64 signatures; entries of other versions are skipped, not judged.
 */
export function hasValidSignature(header: string, version: string, expected: readonly string[]): boolean {
  const candidates = expected.map((e) => Buffer.from(e));
  for (const versioned of header.split(' ')) {
    const comma = versioned.indexOf(',');
    if (comma === -1 || versioned.slice(0, comma) !== version) continue;
    const given = Buffer.from(versioned.slice(comma + 1));
    for (const candidate of candidates) {
      // Length is public (always 44 for SHA-256); the bytes are compared in constant time.
      if (given.length === candidate.length && timingSafeEqual(given, candidate)) return true;
    }
  }
  return false;
}
