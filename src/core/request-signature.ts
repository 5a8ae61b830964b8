/**
 * Signatures of server-to-server requests (gateway → bank API, bank → gateway callbacks). A webhook
 * signature (webhook-signature.ts) covers only `id.timestamp.body`, so the headers of one signed
 * request fit any other request with the same body — an empty-bodied void of one authorisation
 * replayed against another's path. A request signature also covers the method and the path with its
 * query, and uses its own headers, its own version tag and its own key, so neither kind of signature
 * is ever accepted as the other.
 *
 *   signed-request-id:        unique per request (a retry is a new request with a new id); [A-Za-z0-9_.:-]{1,128}
 *   signed-request-timestamp: seconds since the epoch, accepted within the tolerance both ways (default 300 s)
 *   signed-request-signature: `r1,<base64>` [`r1,<base64>`…], one per active secret (two during a rotation)
 *
 * The signature is HMAC-SHA256, keyed with HMAC-SHA256(secret bytes, "countersign-request-v1"), over
 *
 *   "r1\n" METHOD "\n" TARGET "\n" signed-request-id "\n" signed-request-timestamp "\n" raw body bytes
 *
 * METHOD is upper case; TARGET is the request target as the receiver's router sees it: the path and
 * the query exactly as sent (percent-encoding untouched, no host, no fragment). Every field but the
 * body is free of newlines and the body comes last, so no two requests share the signed bytes.
 */
import { createHmac } from 'node:crypto';
import { DomainError } from './errors.ts';
import {
  checkTimestamp,
  DEFAULT_TOLERANCE_SECONDS,
  hasValidSignature,
  readSignatureHeaders,
  signingKeys,
  toSeconds,
} from './hmac-signing.ts';

export interface RequestSignatureHeaders {
  readonly 'signed-request-id': string;
  readonly 'signed-request-timestamp': string;
  readonly 'signed-request-signature': string;
}

/** What a request signature covers besides the id and the timestamp. */
export interface SignedRequestParts {
  readonly method: string;
  /** Path and query as sent, e.g. `/api/v1/authorizations?gateway_ref=ps_1`. */
  readonly target: string;
  readonly body: string | Uint8Array;
}

export const REQUEST_SIGNATURE_VERSION = 'r1';
const HEADERS = {
  id: 'signed-request-id',
  timestamp: 'signed-request-timestamp',
  signature: 'signed-request-signature',
} as const;
const KEY_LABEL = 'countersign-request-v1';
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const METHOD = /^[A-Z]{1,16}$/;
// A request target in origin form: starts with "/", printable ASCII, no spaces, no fragment.
const TARGET = /^\/[\x21-\x22\x24-\x7e]*$/;

function requestKey(secretKey: Buffer): Buffer {
  // A key of its own: even identical bytes signed as a webhook give a different MAC.
  return createHmac('sha256', secretKey).update(KEY_LABEL).digest();
}

function signature(key: Buffer, parts: SignedRequestParts, id: string, timestamp: string): string {
  const head = `${REQUEST_SIGNATURE_VERSION}\n${parts.method}\n${parts.target}\n${id}\n${timestamp}\n`;
  return createHmac('sha256', key).update(head).update(parts.body).digest('base64');
}

function checkParts(parts: SignedRequestParts): void {
  if (!METHOD.test(parts.method))
    throw new DomainError('request.signature_invalid', { reason: 'method_not_canonical' });
  if (!TARGET.test(parts.target))
    throw new DomainError('request.signature_invalid', { reason: 'target_not_canonical' });
}

/** Headers signing one request; `id` must be new for every request, retries included. */
export function signRequest(
  input: SignedRequestParts & { id: string; timestamp: Date; secrets: readonly string[] },
): RequestSignatureHeaders {
  // The signer's own mistakes are configuration errors: it must never send what receivers refuse.
  if (!ID.test(input.id)) throw new DomainError('config.invalid', { reason: 'request_id_not_canonical' });
  if (!METHOD.test(input.method) || !TARGET.test(input.target))
    throw new DomainError('config.invalid', { reason: 'request_target_not_canonical' });
  const timestamp = String(toSeconds(input.timestamp));
  const signatures = signingKeys(input.secrets).map(
    (key) => `${REQUEST_SIGNATURE_VERSION},${signature(requestKey(key), input, input.id, timestamp)}`,
  );
  return {
    'signed-request-id': input.id,
    'signed-request-timestamp': timestamp,
    'signed-request-signature': signatures.join(' '),
  };
}

/**
 * Verifies a received request (method, target and raw body as received); returns its id, which the
 * receiver must then consume, or throws request.signature_invalid (missing or wrong headers, a
 * signature over anything else) or request.timestamp_out_of_tolerance.
 */
export function verifyRequest(
  input: SignedRequestParts & {
    headers: Readonly<Record<string, string | undefined>>;
    secrets: readonly string[];
    now: Date;
    toleranceSeconds?: number;
  },
): { id: string; timestamp: Date } {
  const keyList = signingKeys(input.secrets);
  const {
    id,
    timestamp: timestampHeader,
    signature: signatureHeader,
    missing,
  } = readSignatureHeaders(input.headers, HEADERS);
  // Unsigned is as unauthenticated as forged: one code, 401, naming what is missing.
  if (missing.length > 0) throw new DomainError('request.signature_invalid', { missing });
  if (!ID.test(id)) throw new DomainError('request.signature_invalid', { reason: 'id_not_canonical' });
  checkParts(input);
  const timestamp = checkTimestamp(
    timestampHeader,
    input.now,
    input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
    'request.timestamp_out_of_tolerance',
  );
  const expected = keyList.map((key) => signature(requestKey(key), input, id, timestampHeader));
  if (!hasValidSignature(signatureHeader, REQUEST_SIGNATURE_VERSION, expected))
    throw new DomainError('request.signature_invalid');
  return { id, timestamp: new Date(timestamp * 1000) };
}
