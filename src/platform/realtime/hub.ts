// The real-time hub: one per node. It holds the browsers' WebSockets, and delivers every committed
// message (NOTIFY on `countersign_realtime`, from any node) to the local sockets joined to its room.
// Nothing here is needed by another node: a client that reconnects elsewhere resumes from its cursor.
//
// Hub states:
//   idle ──start()──▶ running ──stop()──▶ stopped        (stop() from idle goes straight to stopped)
//   Upgrades are accepted only while running and listening; stop() closes every socket with 1001.
//
// A socket's room subscription:
//   (join) ──▶ authorizing ──allowed──▶ catching_up ──replay sent, `joined`──▶ live
//                   │ refused: `access.denied`, removed
//   leave or socket close removes it in any state. While catching_up, live messages are buffered and
//   sent after the replay, skipping ids the replay already covered, so a client sees each id once
//   and ids only grow within a room.
//
// Listener health: on each heartbeat the hub NOTIFYs itself a probe; a probe that has not come back
// by the next heartbeat means the LISTEN connection is gone (database restart, network). The hub
// listens again, then closes its sockets with 1012 so that clients reconnect and resume from their
// cursors: what was committed while nobody listened is replayed, not lost.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { sql } from 'drizzle-orm';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Database, Unlisten } from '../db/database.ts';
import { isFrameError, parseClientFrame, type RealtimeErrorCode } from './protocol.ts';
import { readMessage, readRoom, REPLAY_LIMIT, type RoomCatchUp } from './read-room.ts';
import { isValidCursor, isValidRoom, REALTIME_CHANNEL, type JsonValue, type RealtimeMessage } from './room.ts';

/** Decides whether the request that opened the socket (its cookies, its user) may join a room. */
export type Authorize = (room: string, req: IncomingMessage) => Promise<boolean> | boolean;

/** The few log calls the hub makes; a pino logger fits. */
export interface HubLog {
  warn(detail: object, message: string): void;
  info(detail: object, message: string): void;
}

export interface HubLimits {
  /** Rooms one socket may hold at once. */
  readonly roomsPerSocket: number;
  /** Largest frame a client may send; a larger one closes the socket (1009). */
  readonly frameBytes: number;
  /** Messages replayed on a join with `after`; beyond that the client is told `gap: true`. */
  readonly replay: number;
  /** Bytes queued to a socket before it counts as too slow and is dropped (it can resume). */
  readonly bufferedBytes: number;
}

export interface HubOptions {
  readonly database: Database;
  /** No room is public: without this callback every join is refused. */
  readonly authorize?: Authorize;
  readonly log?: HubLog;
  /** The upgrade path the hub answers; other paths are left to other listeners. Default `/ws`. */
  readonly path?: string;
  /** When set, upgrades whose Origin header is not listed are refused (cross-site WebSocket hijacking). */
  readonly allowedOrigins?: readonly string[];
  /** Ping interval; a socket that misses a pong for a whole interval is dropped. Default 30 s. */
  readonly heartbeatMs?: number;
  readonly limits?: Partial<HubLimits>;
}

export interface HubStats {
  /** Open sockets on this node. */
  readonly sockets: number;
  /** Rooms with at least one socket on this node. */
  readonly rooms: number;
}

/** One node's real-time hub. */
export interface Hub {
  /** Serves WebSocket upgrades on `path` of this HTTP server (call before or after start). */
  attach(server: Server): void;
  /** Starts listening for committed messages; upgrades are refused (503) until then. */
  start(): Promise<void>;
  /** Closes every socket (1001), stops listening; final. */
  stop(): Promise<void>;
  stats(): HubStats;
}

export const DEFAULT_HUB_LIMITS: HubLimits = Object.freeze({
  roomsPerSocket: 20,
  frameBytes: 4096,
  replay: REPLAY_LIMIT,
  bufferedBytes: 1024 * 1024,
});

// Live messages buffered for one subscription while its replay is read; more means the database is
// far slower than the publishers, and the client is better off reconnecting.
const MAX_PENDING = 1000;
const CLOSE_GRACE_MS = 1000;

interface Client {
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

const silentLog: HubLog = { warn: () => undefined, info: () => undefined };

function messageDelivery(message: RealtimeMessage): Delivery {
  const frame = JSON.stringify({ type: 'message', room: message.room, id: message.id, payload: message.payload });
  return { id: BigInt(message.id), room: message.room, frame };
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function refuseUpgrade(socket: Duplex, status: 403 | 404 | 503): void {
  const reason = { 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status];
  socket.on('error', () => undefined);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Creates a node's hub over its party's database; wire it in the service's main.ts. */
export function createHub(options: HubOptions): Hub {
  const { database, authorize } = options;
  const path = options.path ?? '/ws';
  const log = options.log ?? silentLog;
  const limits: HubLimits = { ...DEFAULT_HUB_LIMITS, ...options.limits };
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const hubId = randomUUID();

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: limits.frameBytes,
    perMessageDeflate: false,
  });
  const clients = new Set<Client>();
  const rooms = new Map<string, Set<Subscription>>();
  const upgradeListeners = new Map<Server, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();

  let mode: 'idle' | 'running' | 'stopped' = 'idle';
  let unlisten: Unlisten | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  // Messages are handled one after another, so that a message whose payload must be fetched does
  // not let a later one overtake it.
  let queue: Promise<void> = Promise.resolve();
  let probeSeq = 0;
  let probePending: string | undefined;
  let checking = false;

  if (!authorize) log.warn({}, 'realtime hub has no authorize callback: every join will be refused');

  // ---- sending ----

  function send(client: Client, text: string): void {
    const { ws } = client;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > limits.bufferedBytes) {
      log.info({ bufferedAmount: ws.bufferedAmount }, 'realtime: dropping a socket that reads too slowly');
      ws.terminate();
      return;
    }
    ws.send(text);
  }

  function sendError(client: Client, code: RealtimeErrorCode, message: string, room?: string): void {
    send(client, JSON.stringify(room === undefined ? { type: 'error', code, message } : { type: 'error', code, room, message }));
  }

  function deliverTo(sub: Subscription, delivery: Delivery): void {
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
    send(sub.client, delivery.frame);
  }

  function deliver(delivery: Delivery): void {
    const subs = rooms.get(delivery.room);
    if (!subs) return;
    for (const sub of subs) deliverTo(sub, delivery);
  }

  // ---- notifications ----

  function onNotification(raw: string): void {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      log.warn({ raw: raw.slice(0, 200) }, 'realtime: ignoring a notification that is not JSON');
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const note = value as Record<string, unknown>;
    if (typeof note.probe === 'string') {
      // Answered at once, not behind queued messages: a slow fetch is not a dead listener.
      if (note.probe === probePending) probePending = undefined;
      return;
    }
    const { id, room } = note;
    if (!isValidCursor(id) || !isValidRoom(room)) {
      log.warn({ raw: raw.slice(0, 200) }, 'realtime: ignoring a malformed notification');
      return;
    }
    if (!rooms.has(room)) return; // nobody on this node watches that room
    const inline = Object.hasOwn(note, 'payload');
    queue = queue
      .then(async () => {
        const message = inline ? { id, room, payload: note.payload as JsonValue } : await readMessage(database.db, id);
        if (message) deliver(messageDelivery(message));
      })
      .catch((err: unknown) => log.warn({ err, id, room }, 'realtime: could not deliver a message'));
  }

  async function checkListener(): Promise<void> {
    if (checking || mode !== 'running') return;
    checking = true;
    try {
      if (probePending !== undefined) {
        log.warn({ probe: probePending }, 'realtime: notifications stopped arriving; listening again');
        await relisten();
      }
      if (mode !== 'running') return;
      const token = `${hubId}:${++probeSeq}`;
      probePending = token;
      try {
        await database.db.execute(sql`select pg_notify(${REALTIME_CHANNEL}, ${JSON.stringify({ probe: token })})`);
      } catch (err) {
        // The database is unreachable: nothing to conclude about the listener until it is back.
        probePending = undefined;
        log.warn({ err }, 'realtime: could not send the listener probe');
      }
    } finally {
      checking = false;
    }
  }

  async function relisten(): Promise<void> {
    const previous = unlisten;
    unlisten = undefined;
    await previous?.().catch(() => undefined);
    try {
      const next = await database.listen(REALTIME_CHANNEL, onNotification);
      if (mode === 'running') unlisten = next;
      else await next();
    } catch (err) {
      log.warn({ err }, 'realtime: could not listen again; refusing upgrades until the next heartbeat');
    }
    probePending = undefined;
    // Listening again first, closing second: a client that reconnects at once misses nothing.
    for (const client of clients) client.ws.close(1012, 'realtime restarting: resume');
  }

  function onHeartbeat(): void {
    for (const client of clients) {
      if (!client.alive) {
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      try {
        client.ws.ping();
      } catch {
        client.ws.terminate();
      }
    }
    void checkListener();
  }

  // ---- rooms ----

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

  async function isAllowed(room: string, req: IncomingMessage): Promise<boolean> {
    if (!authorize) return false;
    try {
      return (await authorize(room, req)) === true;
    } catch (err) {
      log.warn({ err, room }, 'realtime: the authorize callback failed; refusing the join');
      return false;
    }
  }

  async function join(client: Client, room: string, after: string | undefined): Promise<void> {
    if (client.subs.has(room)) return sendError(client, 'room.already_joined', 'This socket has already joined the room.', room);
    if (client.subs.size >= limits.roomsPerSocket) {
      return sendError(client, 'room.limit', `A socket may join at most ${limits.roomsPerSocket} rooms.`, room);
    }
    const sub: Subscription = { client, room, phase: 'authorizing', cursor: 0n, pending: [] };
    client.subs.set(room, sub);
    const allowed = await isAllowed(room, client.req);
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
    send(client, JSON.stringify({ type: 'joined', room, cursor: catchUp.cursor, ...(catchUp.gap ? { gap: true } : {}) }));
    sub.cursor = BigInt(catchUp.cursor);
    sub.phase = 'live';
    const pending = sub.pending;
    sub.pending = [];
    for (const delivery of pending) deliverTo(sub, delivery);
  }

  function leave(client: Client, room: string): void {
    const sub = client.subs.get(room);
    if (sub) remove(sub);
    send(client, JSON.stringify({ type: 'left', room }));
  }

  // ---- sockets ----

  function onFrame(client: Client, data: RawData, isBinary: boolean): void {
    client.alive = true;
    if (isBinary) return sendError(client, 'frame.invalid', 'Frames must be JSON text.');
    const frame = parseClientFrame(rawText(data));
    if (isFrameError(frame)) return sendError(client, frame.error, frame.message, frame.room);
    if (frame.type === 'leave') return leave(client, frame.room);
    join(client, frame.room, frame.after).catch((err: unknown) => {
      log.warn({ err, room: frame.room }, 'realtime: join failed');
    });
  }

  function connect(ws: WebSocket, req: IncomingMessage): void {
    const client: Client = { ws, req, alive: true, subs: new Map() };
    clients.add(client);
    // ws reports protocol violations (a frame over maxPayload, invalid UTF-8) here and closes the
    // socket itself; without a listener they would crash the process.
    ws.on('error', (err) => log.info({ err }, 'realtime: socket error'));
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => onFrame(client, data, isBinary));
    ws.on('close', () => {
      clients.delete(client);
      for (const sub of [...client.subs.values()]) remove(sub);
    });
    if (mode !== 'running') ws.close(1001, 'server stopping');
  }

  function onUpgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let pathname = '';
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      // an unparsable target is simply not ours
    }
    if (pathname !== path) {
      // Another upgrade listener may serve that path; when the hub is alone nobody would answer.
      if (server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404);
      return;
    }
    if (mode !== 'running' || unlisten === undefined) return refuseUpgrade(socket, 503);
    if (options.allowedOrigins && !options.allowedOrigins.includes(req.headers.origin ?? '')) {
      return refuseUpgrade(socket, 403);
    }
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws, req));
  }

  function closeSocket(ws: WebSocket): Promise<void> {
    return new Promise((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const force = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      ws.close(1001, 'server stopping');
    });
  }

  return {
    attach(server) {
      if (mode === 'stopped' || upgradeListeners.has(server)) return;
      const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => onUpgrade(server, req, socket, head);
      upgradeListeners.set(server, listener);
      server.on('upgrade', listener);
    },

    async start() {
      if (mode !== 'idle') throw new Error(`realtime hub: start() called while ${mode}`);
      const off = await database.listen(REALTIME_CHANNEL, onNotification);
      if (mode !== 'idle') {
        await off(); // stopped while we were connecting
        return;
      }
      unlisten = off;
      mode = 'running';
      heartbeat = setInterval(onHeartbeat, heartbeatMs);
      heartbeat.unref();
    },

    async stop() {
      if (mode === 'stopped') return;
      mode = 'stopped';
      clearInterval(heartbeat);
      for (const [server, listener] of upgradeListeners) server.off('upgrade', listener);
      upgradeListeners.clear();
      await Promise.all([...clients].map((client) => closeSocket(client.ws)));
      const off = unlisten;
      unlisten = undefined;
      await off?.().catch(() => undefined);
      await queue;
      wss.close();
    },

    stats() {
      return { sockets: clients.size, rooms: rooms.size };
    },
  };
}
