/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${raw body}`, sent as `webhook-signature: v1,<base64> [v1,<base64>…]`.
 *
 * We implement signing and verification ourselves with node:crypto instead of calling the
 * `standardwebhooks` package's Webhook.verify, because that method reads the real clock (Date.now),
 * which makes tolerance untestable and lets domain code read time behind our back, and it takes one
 * secret, while rotation needs two active at once. The package stays the independent cross-check in
 * the tests (sign with it, verify with us, and the reverse, plus the published test vector).
 *
 * Verification works on the raw bytes as received: re-serialising parsed JSON changes the bytes and
 * must fail.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError } from './errors.ts';

export interface WebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

const SECRET_PREFIX = 'whsec_';
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

function keys(secrets: readonly string[]): Buffer[] {
  if (secrets.length === 0) throw new DomainError('config.invalid', { reason: 'no_webhook_secret' });
  return secrets.map(secretKey);
}

function signature(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

function toSeconds(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new DomainError('config.invalid', { reason: 'invalid_date' });
  return Math.floor(ms / 1000);
}

/** Headers for one delivery; one `v1,` signature per active secret so receivers mid-rotation accept it. */
export function signWebhook(input: {
  id: string;
  timestamp: Date;
  body: string | Uint8Array;
  secrets: readonly string[];
}): WebhookHeaders {
  if (input.id.length === 0) throw new DomainError('webhook.headers_missing', { missing: ['webhook-id'] });
  const timestamp = String(toSeconds(input.timestamp));
  const signatures = keys(input.secrets).map((key) => `v1,${signature(key, input.id, timestamp, input.body)}`);
  return {
    'webhook-id': input.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}

/**
 * Verifies a received webhook against the raw body; returns its id (for dedupe) and timestamp, or
 * throws webhook.headers_missing, webhook.timestamp_out_of_tolerance or webhook.signature_invalid.
 */
export function verifyWebhook(input: {
  headers: Readonly<Record<string, string | undefined>>;
  body: string | Uint8Array;
  secrets: readonly string[];
  now: Date;
  toleranceSeconds?: number;
}): { id: string; timestamp: Date } {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const keyList = keys(input.secrets);

  // HTTP header names are case-insensitive; frameworks differ in how they hand them over.
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(input.headers)) {
    if (value !== undefined) headers.set(name.toLowerCase(), value);
  }
  const id = headers.get('webhook-id') ?? '';
  const timestampHeader = headers.get('webhook-timestamp') ?? '';
  const signatureHeader = headers.get('webhook-signature') ?? '';
  const missing = [
    ...(id === '' ? ['webhook-id'] : []),
    ...(timestampHeader === '' ? ['webhook-timestamp'] : []),
    ...(signatureHeader === '' ? ['webhook-signature'] : []),
  ];
  if (missing.length > 0) throw new DomainError('webhook.headers_missing', { missing });

  // Digits only: parseInt would accept "1614265330abc" or "1e9"; a sender we trust never sends those.
  if (!/^[0-9]{1,12}$/.test(timestampHeader)) {
    throw new DomainError('webhook.timestamp_out_of_tolerance', { reason: 'not_numeric' });
  }
  const timestamp = Number(timestampHeader);
  const now = toSeconds(input.now);
  // Both directions: an old message may be a replay, a future one a replay prepared in advance.
  if (now - timestamp > tolerance) throw new DomainError('webhook.timestamp_out_of_tolerance', { reason: 'too_old' });
  if (timestamp - now > tolerance) throw new DomainError('webhook.timestamp_out_of_tolerance', { reason: 'too_new' });

  const expected = keyList.map((key) => Buffer.from(signature(key, id, timestampHeader, input.body)));
  for (const versioned of signatureHeader.split(' ')) {
    const comma = versioned.indexOf(',');
    if (comma === -1 || versioned.slice(0, comma) !== 'v1') continue; // bare or other versions: not ours to judge
    const given = Buffer.from(versioned.slice(comma + 1));
    for (const candidate of expected) {
      // Length is public (always 44 for SHA-256); the bytes are compared in constant time.
      if (given.length === candidate.length && timingSafeEqual(given, candidate)) {
        return { id, timestamp: new Date(timestamp * 1000) };
      }
    }
  }
  throw new DomainError('webhook.signature_invalid');
}

/** A fresh signing secret in the `whsec_<base64>` form both sides of Standard Webhooks expect. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}
