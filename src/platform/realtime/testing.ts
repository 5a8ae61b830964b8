// Test helper: a real `ws` client that records the hub's frames and waits for the ones a test expects.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, type ClientOptions } from 'ws';
import type { Database } from '../db/database.ts';
import { createHub, type Hub, type HubOptions } from './hub.ts';
import type { ServerFrame } from './protocol.ts';

export interface TestSocket {
  readonly ws: WebSocket;
  /** Every frame received so far, in order (parsed; non-JSON frames are a test failure). */
  readonly frames: ServerFrame[];
  send(frame: unknown): void;
  /** The first frame (received already or later) that matches, after those already consumed by next(). */
  next(match: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  /** Resolves with the close code once the socket is closed. */
  readonly closed: Promise<number>;
  close(): Promise<void>;
}

/** The ws:// URL of a listening HTTP server. */
export function socketUrl(server: Server, path = '/ws'): string {
  const { port } = server.address() as AddressInfo;
  return `ws://127.0.0.1:${port}${path}`;
}

/** Opens a socket and waits for the handshake; rejects with the HTTP status if refused. */
export async function connectTestSocket(url: string, options: ClientOptions = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, options);
  const frames: ServerFrame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as ServerFrame);
    for (const wake of [...waiters]) wake();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`upgrade refused: ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  let consumed = 0;
  return {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const look = () => {
          for (let i = consumed; i < frames.length; i++) {
            const frame = frames[i]!;
            if (match(frame)) {
              consumed = i + 1;
              cleanup();
              resolve(frame);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching frame within ${timeoutMs} ms; received: ${JSON.stringify(frames)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(look);
        };
        waiters.add(look);
        look();
      });
    },
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await closed;
    },
  };
}

/** The platform tables' spec, for tests of platform code. */
export const platformSpec = {
  name: 'platform',
  migrationsFolder: fileURLToPath(new URL('../db/migrations', import.meta.url)),
};

/** A hub started on a real HTTP server listening on a free port. */
export interface TestHub {
  readonly hub: Hub;
  readonly server: Server;
  readonly url: string;
  connect(options?: ClientOptions): Promise<TestSocket>;
  stop(): Promise<void>;
}

/** Starts a hub over `database` behind a fresh HTTP server (port 0); stop it in `after`. */
export async function startTestHub(database: Database, options: Omit<HubOptions, 'database'> = {}): Promise<TestHub> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const hub = createHub({ database, ...options });
  hub.attach(server);
  await hub.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = socketUrl(server, options.path);
  return {
    hub,
    server,
    url,
    connect: (clientOptions) => connectTestSocket(url, clientOptions),
    async stop() {
      await hub.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Test authorization from a `user=<name>` cookie: a user may join rooms `<kind>:<name>-...` only. */
export function cookieOwnerAuthorize(room: string, req: IncomingMessage): boolean {
  const user = /(?:^|;\s*)user=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
  return user !== undefined && (room.split(':')[1] ?? '').startsWith(`${user}-`);
}

/** Client options that send the `user` cookie. */
export function asUser(user: string): ClientOptions {
  return { headers: { cookie: `user=${user}` } };
}
