// The real-time hub: one per node. It holds the browsers' WebSockets, and delivers every committed
// message (NOTIFY on `countersign_realtime`, from any node) to the local sockets joined to its room.
// Nothing here is needed by another node: a client that reconnects elsewhere resumes from its cursor.
// The subscriptions live in hub-rooms.ts, the LISTEN and its health check in hub-listener.ts.
//
// Hub states:
//   idle ──start()──▶ running ──stop()──▶ stopped        (stop() from idle goes straight to stopped)
//   Upgrades are accepted only while running and listening; stop() closes every socket with 1001.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Database } from '../db/database.ts';
import { createHubListener } from './hub-listener.ts';
import { createHubRooms, type Client } from './hub-rooms.ts';
import { REPLAY_LIMIT } from './read-room.ts';

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
  /** How often the LISTEN connection is checked (and listened again if lost). Default: heartbeatMs. */
  readonly listenerCheckMs?: number;
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
  /**
   * One heartbeat round now, as the interval runs it: drops each socket that did not answer the last
   * ping and pings the others. Resolves when every ping is sent, or at once if a round is already
   * running. For tests that must not depend on how fast a loaded machine answers within an interval.
   */
  beat(): Promise<void>;
}

export const DEFAULT_HUB_LIMITS: HubLimits = Object.freeze({
  roomsPerSocket: 20,
  frameBytes: 4096,
  replay: REPLAY_LIMIT,
  bufferedBytes: 1024 * 1024,
});

const CLOSE_GRACE_MS = 1000;
/** Sockets pinged in one go before the heartbeat lets other work run. */
const PING_BATCH = 250;

const silentLog: HubLog = { warn: () => undefined, info: () => undefined };

function refuseUpgrade(socket: Duplex, status: 403 | 404 | 503): void {
  const reason = { 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status];
  socket.on('error', () => undefined);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
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

/**
 * One heartbeat round: drops each socket that did not answer the last ping, pings the others. Sockets
 * are pinged PING_BATCH at a time with the event loop free in between: at 5,000 sockets a single pass
 * held the loop for 50–90 ms, and every message committed meanwhile waited.
 */
async function pingRound(clients: Set<Client>, running: () => boolean): Promise<void> {
  let sent = 0;
  for (const client of [...clients]) {
    if (sent > 0 && sent % PING_BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
    if (!running()) return;
    sent++;
    if (!clients.has(client)) continue; // closed while the round yielded
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
}

/** Creates a node's hub over its party's database; wire it in the service's main.ts. */
export function createHub(options: HubOptions): Hub {
  const { database, authorize } = options;
  const path = options.path ?? '/ws';
  const log = options.log ?? silentLog;
  const limits: HubLimits = { ...DEFAULT_HUB_LIMITS, ...options.limits };
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const listenerCheckMs = options.listenerCheckMs ?? heartbeatMs;

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: limits.frameBytes,
    perMessageDeflate: false,
  });
  const clients = new Set<Client>();
  const upgradeListeners = new Map<Server, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();
  let mode: 'idle' | 'running' | 'stopped' = 'idle';
  let heartbeat: NodeJS.Timeout | undefined;
  let listenerCheck: NodeJS.Timeout | undefined;

  if (!authorize) log.warn({}, 'realtime hub has no authorize callback: every join will be refused');
  const rooms = createHubRooms({ database, authorize, limits, log });
  const listener = createHubListener({
    database,
    log,
    hubId: randomUUID(),
    isRunning: () => mode === 'running',
    watches: rooms.watches,
    deliver: rooms.deliver,
    afterRelisten: () => {
      for (const client of clients) client.ws.close(1012, 'realtime restarting: resume');
    },
  });

  let beating = false;
  async function onHeartbeat(): Promise<void> {
    if (beating) return; // the last round is still going (a very busy node): it covers this one
    beating = true;
    try {
      await pingRound(clients, () => mode === 'running');
    } finally {
      beating = false;
    }
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
    ws.on('message', (data, isBinary) => rooms.onFrame(client, data, isBinary));
    ws.on('close', () => {
      clients.delete(client);
      rooms.drop(client);
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
    if (mode !== 'running' || !listener.listening()) return refuseUpgrade(socket, 503);
    if (options.allowedOrigins && !options.allowedOrigins.includes(req.headers.origin ?? '')) {
      return refuseUpgrade(socket, 403);
    }
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws, req));
  }

  return {
    attach(server) {
      if (mode === 'stopped' || upgradeListeners.has(server)) return;
      const onServerUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        onUpgrade(server, req, socket, head);
      upgradeListeners.set(server, onServerUpgrade);
      server.on('upgrade', onServerUpgrade);
    },

    async start() {
      if (mode !== 'idle') throw new Error(`realtime hub: start() called while ${mode}`);
      if (!(await listener.start(() => mode === 'idle'))) return; // stopped while we were connecting
      mode = 'running';
      heartbeat = setInterval(() => void onHeartbeat(), heartbeatMs);
      heartbeat.unref();
      listenerCheck = setInterval(() => void listener.check(), listenerCheckMs);
      listenerCheck.unref();
    },

    async stop() {
      if (mode === 'stopped') return;
      mode = 'stopped';
      clearInterval(heartbeat);
      clearInterval(listenerCheck);
      for (const [server, onServerUpgrade] of upgradeListeners) server.off('upgrade', onServerUpgrade);
      upgradeListeners.clear();
      await Promise.all([...clients].map((client) => closeSocket(client.ws)));
      await listener.stop();
      wss.close();
    },

    stats() {
      return { sockets: clients.size, rooms: rooms.count() };
    },

    beat: onHeartbeat,
  };
}
