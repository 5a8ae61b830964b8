// The hub's sockets and their room subscriptions on one node: joining (authorise, replay, go live),
// leaving, and delivering a committed message to every local subscription of its room.
//
// A socket's room subscription:
//   (join) ──▶ authorizing ──allowed──▶ catching_up ──replay sent, `joined`──▶ live
//                   │ refused: `access.denied`, removed
//   leave or socket close removes it in any state. While catching_up, live messages are buffered and
//   sent after the replay, skipping ids the replay already covered, so a client sees each id once
//   and ids only grow within a room.
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { Database } from '../db/database.ts';
import { isFrameError, parseClientFrame, type RealtimeErrorCode } from './protocol.ts';
import { readRoom, type RoomCatchUp } from './read-room.ts';
import type { RealtimeMessage } from './room.ts';
import type { Authorize, HubLimits, HubLog } from './hub.ts';

// Live messages buffered for one subscription while its replay is read; more means the database is
// far slower than the publishers, and the client is better off reconnecting.
const MAX_PENDING = 1000;

/** One open socket on this node. */
export interface Client {
  readonly ws: WebSocket;
  readonly req: IncomingMessage;
  alive: boolean;
  readonly subs: Map<string, Subscription>;
}

interface Subscription {
  readonly client: Client;
  readonly room: string;
  phase: 'authorizing' | 'catching_up' | 'live';
  /** The highest id this client has been given (or told it is past) in this room. */
  cursor: bigint;
  pending: Delivery[];
}

/** A message ready to send: its id for ordering, its frame serialised once for every socket. */
interface Delivery {
  readonly id: bigint;
  readonly room: string;
  readonly frame: string;
}

/** The node's subscriptions, as the hub drives them. */
export interface HubRooms {
  /** Handles one frame a client sent (join or leave). */
  onFrame(client: Client, data: RawData, isBinary: boolean): void;
  /** Sends a committed message to the room's live subscriptions (buffered for those catching up). */
  deliver(message: RealtimeMessage): void;
  /** Whether any socket on this node watches the room. */
  watches(room: string): boolean;
  /** Forgets a closed socket's subscriptions. */
  drop(client: Client): void;
  /** Rooms with at least one subscription. */
  count(): number;
}

function messageDelivery(message: RealtimeMessage): Delivery {
  const frame = JSON.stringify({ type: 'message', room: message.room, id: message.id, payload: message.payload });
  return { id: BigInt(message.id), room: message.room, frame };
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Sends a text frame unless the socket is closed; drops a socket that reads too slowly. */
function sendTo(client: Client, text: string, limits: HubLimits, log: HubLog): void {
  const { ws } = client;
  if (ws.readyState !== WebSocket.OPEN) return;
  if (ws.bufferedAmount > limits.bufferedBytes) {
    log.info({ bufferedAmount: ws.bufferedAmount }, 'realtime: dropping a socket that reads too slowly');
    ws.terminate();
    return;
  }
  ws.send(text);
}

/** Sends a delivery to a live subscription once (buffered while it catches up). */
function deliverTo(sub: Subscription, delivery: Delivery, limits: HubLimits, log: HubLog): void {
  if (sub.phase === 'catching_up') {
    sub.pending.push(delivery);
    if (sub.pending.length > MAX_PENDING) {
      log.warn({ room: sub.room }, 'realtime: replay too slow, dropping the socket so that it resumes');
      sub.client.ws.terminate();
    }
    return;
  }
  if (sub.phase !== 'live' || delivery.id <= sub.cursor) return;
  sub.cursor = delivery.id;
  sendTo(sub.client, delivery.frame, limits, log);
}

/** Whether the authorize callback lets this request join the room (no callback, or a failing one: no). */
async function isAllowed(
  authorize: Authorize | undefined,
  log: HubLog,
  room: string,
  req: IncomingMessage,
): Promise<boolean> {
  if (!authorize) return false;
  try {
    return (await authorize(room, req)) === true;
  } catch (err) {
    log.warn({ err, room }, 'realtime: the authorize callback failed; refusing the join');
    return false;
  }
}

/** Creates the subscription registry of one hub. */
export function createHubRooms(deps: {
  database: Database;
  authorize: Authorize | undefined;
  limits: HubLimits;
  log: HubLog;
}): HubRooms {
  const { database, authorize, limits, log } = deps;
  const rooms = new Map<string, Set<Subscription>>();
  const send = (client: Client, text: string) => sendTo(client, text, limits, log);

  function sendError(client: Client, code: RealtimeErrorCode, message: string, room?: string): void {
    send(
      client,
      JSON.stringify(room === undefined ? { type: 'error', code, message } : { type: 'error', code, room, message }),
    );
  }

  function index(sub: Subscription): void {
    let subs = rooms.get(sub.room);
    if (!subs) rooms.set(sub.room, (subs = new Set()));
    subs.add(sub);
  }

  function remove(sub: Subscription): void {
    const subs = rooms.get(sub.room);
    if (subs?.delete(sub) && subs.size === 0) rooms.delete(sub.room);
    if (sub.client.subs.get(sub.room) === sub) sub.client.subs.delete(sub.room);
  }

  async function join(client: Client, room: string, after: string | undefined): Promise<void> {
    if (client.subs.has(room))
      return sendError(client, 'room.already_joined', 'This socket has already joined the room.', room);
    if (client.subs.size >= limits.roomsPerSocket) {
      return sendError(client, 'room.limit', `A socket may join at most ${limits.roomsPerSocket} rooms.`, room);
    }
    const sub: Subscription = { client, room, phase: 'authorizing', cursor: 0n, pending: [] };
    client.subs.set(room, sub);
    const allowed = await isAllowed(authorize, log, room, client.req);
    if (client.subs.get(room) !== sub) return; // left or closed meanwhile
    if (!allowed) {
      remove(sub);
      return sendError(client, 'access.denied', 'You may not join this room.', room);
    }
    sub.phase = 'catching_up';
    index(sub);
    let catchUp: RoomCatchUp;
    try {
      catchUp = await readRoom(database.db, room, after, limits.replay);
    } catch (err) {
      log.warn({ err, room }, 'realtime: could not read the room on join');
      if (client.subs.get(room) !== sub) return;
      remove(sub);
      return sendError(client, 'room.unavailable', 'The room is unavailable; try again.', room);
    }
    if (client.subs.get(room) !== sub) return;
    for (const message of catchUp.messages) send(client, messageDelivery(message).frame);
    send(
      client,
      JSON.stringify({ type: 'joined', room, cursor: catchUp.cursor, ...(catchUp.gap ? { gap: true } : {}) }),
    );
    sub.cursor = BigInt(catchUp.cursor);
    sub.phase = 'live';
    const pending = sub.pending;
    sub.pending = [];
    for (const delivery of pending) deliverTo(sub, delivery, limits, log);
  }

  function leave(client: Client, room: string): void {
    const sub = client.subs.get(room);
    if (sub) remove(sub);
    send(client, JSON.stringify({ type: 'left', room }));
  }

  return {
    onFrame(client, data, isBinary) {
      client.alive = true;
      if (isBinary) return sendError(client, 'frame.invalid', 'Frames must be JSON text.');
      const frame = parseClientFrame(rawText(data));
      if (isFrameError(frame)) return sendError(client, frame.error, frame.message, frame.room);
      if (frame.type === 'leave') return leave(client, frame.room);
      join(client, frame.room, frame.after).catch((err: unknown) => {
        log.warn({ err, room: frame.room }, 'realtime: join failed');
      });
    },
    deliver(message) {
      const subs = rooms.get(message.room);
      if (!subs) return;
      const delivery = messageDelivery(message);
      for (const sub of subs) deliverTo(sub, delivery, limits, log);
    },
    watches: (room) => rooms.has(room),
    drop(client) {
      for (const sub of [...client.subs.values()]) remove(sub);
    },
    count: () => rooms.size,
  };
}
