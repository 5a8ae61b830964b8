// Names and shapes shared by the publishing side (inside a state change's transaction) and the hub.

/** The NOTIFY channel that carries committed messages to every node's hub. */
export const REALTIME_CHANNEL = 'countersign_realtime';

/** NOTIFY refuses payloads of 8000 bytes or more; above this the hub fetches the row instead. */
export const NOTIFY_INLINE_LIMIT_BYTES = 7900;

/** A message is a status snapshot for a page, not a document: larger payloads are a programming error. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** A JSON value. Money is bigint in the domain and must be turned into a string before it is published. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** One committed real-time message; the id is a decimal string (a bigserial, above 2^53 one day). */
export interface RealtimeMessage {
  readonly id: string;
  readonly room: string;
  readonly payload: JsonValue;
}

// Rooms name what a page watches, e.g. `invoice:inv_01J9...`; restricting the alphabet keeps them
// safe in logs and in lock keys, and bounds their size in every NOTIFY.
const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** Tells whether a value is a well-formed room name (1 to 200 of `A-Z a-z 0-9 _ . : -`). */
export function isValidRoom(room: unknown): room is string {
  return typeof room === 'string' && ROOM_PATTERN.test(room);
}

const MAX_BIGINT = 9223372036854775807n;

/** Tells whether a value is a message id or cursor: a decimal string of a non-negative bigint. */
export function isValidCursor(value: unknown): value is string {
  return typeof value === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(value) && BigInt(value) <= MAX_BIGINT;
}
