/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${raw body}`, sent as `webhook-signature: v1,<base64> [v1,<base64>…]`.
 * For events (gateway → shop, shop → integrations): the id is the event's, the same on every retry,
 * and the receiver dedupes on it. Server-to-server requests use request-signature.ts instead, which
 * also binds the method and the path.
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
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { DomainError } from './errors.ts';
import {
  checkTimestamp,
  DEFAULT_TOLERANCE_SECONDS,
  hasValidSignature,
  readSignatureHeaders,
  SECRET_PREFIX,
  signingKeys,
  toSeconds,
} from './hmac-signing.ts';

export { DEFAULT_TOLERANCE_SECONDS } from './hmac-signing.ts';

export interface WebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

const HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

function signature(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
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
  const signatures = signingKeys(input.secrets).map((key) => `v1,${signature(key, input.id, timestamp, input.body)}`);
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
  const keyList = signingKeys(input.secrets);
  const {
    id,
    timestamp: timestampHeader,
    signature: signatureHeader,
    missing,
  } = readSignatureHeaders(input.headers, HEADERS);
  if (missing.length > 0) throw new DomainError('webhook.headers_missing', { missing });
  const timestamp = checkTimestamp(
    timestampHeader,
    input.now,
    input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
    'webhook.timestamp_out_of_tolerance',
  );
  const expected = keyList.map((key) => signature(key, id, timestampHeader, input.body));
  // Bare or other versions are not ours to judge; only a matching v1 counts.
  if (!hasValidSignature(signatureHeader, 'v1', expected)) throw new DomainError('webhook.signature_invalid');
  return { id, timestamp: new Date(timestamp * 1000) };
}

/** A fresh signing secret in the `whsec_<base64>` form both sides of Standard Webhooks expect. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** What may be shown of a secret (lists, logs, the CLI): the first 8 hex digits of its SHA-256, never the secret. */
export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 8);
}
