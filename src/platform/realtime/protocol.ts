// The client protocol: JSON text frames over one WebSocket, many rooms per socket.
//
//   client → hub   { "type": "join",  "room": "invoice:inv_...", "after"?: "<message id>" }
//                  { "type": "leave", "room": "invoice:inv_..." }
//   hub → client   { "type": "message", "room", "id": "<message id>", "payload": ... }
//                  { "type": "joined", "room", "cursor": "<message id>", "gap"?: true }
//                  { "type": "left",   "room" }
//                  { "type": "error",  "code", "room"?, "message" }
//
// A join with `after` first receives the room's messages with id > after (replayed, oldest first),
// then `joined`; live messages follow. Ids within a room only grow; a client keeps the last id it
// saw (message id or joined cursor) and joins with it as `after` when it reconnects.
import type { JsonValue } from './room.ts';
import { isValidCursor, isValidRoom } from './room.ts';

/** Why the hub refused a frame or a join. */
export type RealtimeErrorCode =
  | 'frame.invalid' // not a JSON object of a known type with valid fields
  | 'room.invalid' // the room name is malformed
  | 'room.limit' // the socket already holds the maximum number of rooms
  | 'room.already_joined' // join of a room the socket holds or is joining
  | 'access.denied' // the authorize callback refused (or there is none)
  | 'room.unavailable'; // the room could not be read (database trouble): try again

export type ClientFrame =
  | { readonly type: 'join'; readonly room: string; readonly after?: string }
  | { readonly type: 'leave'; readonly room: string };

export type ServerFrame =
  | { readonly type: 'message'; readonly room: string; readonly id: string; readonly payload: JsonValue }
  | { readonly type: 'joined'; readonly room: string; readonly cursor: string; readonly gap?: true }
  | { readonly type: 'left'; readonly room: string }
  | { readonly type: 'error'; readonly code: RealtimeErrorCode; readonly room?: string; readonly message: string };

export interface FrameError {
  readonly error: RealtimeErrorCode;
  readonly room?: string;
  readonly message: string;
}

const invalid = (message: string): FrameError => ({ error: 'frame.invalid', message });

/** Parses one text frame from a client; never throws. */
export function parseClientFrame(text: string): ClientFrame | FrameError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('The frame is not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return invalid('The frame is not a JSON object.');
  const frame = value as Record<string, unknown>;
  if (frame.type !== 'join' && frame.type !== 'leave') return invalid('The frame type must be "join" or "leave".');
  if (typeof frame.room !== 'string') return invalid('The frame has no room.');
  if (!isValidRoom(frame.room)) return { error: 'room.invalid', message: 'The room name is not valid.' };
  if (frame.type === 'leave') return { type: 'leave', room: frame.room };
  if (frame.after === undefined) return { type: 'join', room: frame.room };
  if (!isValidCursor(frame.after))
    return { ...invalid('"after" must be a message id (a decimal string).'), room: frame.room };
  return { type: 'join', room: frame.room, after: frame.after };
}

/** Tells a parse result that is an error from a frame. */
export function isFrameError(parsed: ClientFrame | FrameError): parsed is FrameError {
  return 'error' in parsed;
}
