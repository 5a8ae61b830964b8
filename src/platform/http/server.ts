// Serving a Hono app on Node's HTTP (or HTTPS) server, and closing it without dropping requests in flight.
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerCertificate } from '../tls.ts';

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /** Stops accepting connections and waits for requests in flight (sockets closed after a grace period). */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts listening; port 0 picks a free port. With a certificate it serves HTTPS (WebSocket upgrades
 * arrive on the same 'upgrade' event, so wss needs nothing else); the https.Server is typed as the
 * http.Server it extends in every way the callers use.
 */
export async function listen(
  fetch: (req: Request, env: never) => Response | Promise<Response>,
  port: number,
  host: string,
  tls?: ServerCertificate,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = (
      tls
        ? serve({
            fetch: fetch as never,
            port,
            hostname: host,
            createServer: createHttpsServer,
            serverOptions: { cert: tls.cert, key: tls.key },
          })
        : serve({ fetch: fetch as never, port, hostname: host })
    ) as Server;
    server.once('error', reject);
    server.once('listening', () => {
      const actual = (server.address() as AddressInfo).port;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      resolve({
        server,
        port: actual,
        url: `${tls ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${actual}`,
        close: (graceMs = 5000) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => server.closeAllConnections(), graceMs);
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
