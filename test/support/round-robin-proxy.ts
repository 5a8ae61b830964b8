// A round-robin HTTP proxy for the multi-node proof: each request (and each WebSocket upgrade) goes
// to the next backend; a backend that refuses the connection (a killed node) is skipped and the next
// one tried, so a dead node drops out with no configuration, as behind any load balancer with retries
// on connect failures. It records which backend served each request.
//
// Written by hand (~60 lines of node:http and node:net) instead of taking a proxy package: the project
// takes no new dependency for a test helper, and the suite needs exactly this much — round robin,
// skip-on-refused, upgrades piped through, and a record of who served what.
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface Served {
  readonly backend: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** When the request was forwarded to this backend (ms since the epoch). */
  readonly at: number;
  /** The request's `webhook-id` header, if any (to tell which node applied which webhook). */
  readonly webhookId?: string | undefined;
}

const refused = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';

/** Starts the proxy on `port` (0: any) in front of `backends` (base URLs like http://127.0.0.1:4000). */
export async function startRoundRobinProxy(backends: readonly string[], port = 0) {
  const targets = backends.map((b) => new URL(b));
  const served: Served[] = [];
  const sockets = new Set<Socket>();
  let next = 0;
  /** The next backend not yet tried for this request, or -1 when every one refused. */
  const pick = (tried: Set<number>): number => {
    for (let i = 0; i < targets.length; i++) {
      const k = (next + i) % targets.length;
      if (!tried.has(k)) {
        next = (k + 1) % targets.length;
        tried.add(k);
        return k;
      }
    }
    return -1;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Buffered, so that a refused connection can be retried on the next backend with the same bytes.
      const body = Buffer.concat(chunks);
      const tried = new Set<number>();
      const forward = () => {
        const k = pick(tried);
        if (k < 0) return void res.writeHead(502, { 'content-type': 'text/plain' }).end('no live backend');
        const t = targets[k]!;
        const at = Date.now();
        // A fresh connection per request (agent: false): no pooled socket to a node that died meanwhile.
        const up = request(
          { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, agent: false },
          (answer) => {
            served.push({
              backend: k,
              method: req.method ?? 'GET',
              path: req.url ?? '/',
              status: answer.statusCode ?? 0,
              at,
              webhookId: req.headers['webhook-id'] as string | undefined,
            });
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('error', () => res.destroy());
          },
        );
        up.on('error', (err) => {
          if (refused(err) && !res.headersSent) return forward();
          // Died mid-request: the client sees a 502 (it may have been applied; the client decides to retry).
          if (!res.headersSent)
            res.writeHead(502, { 'content-type': 'text/plain' }).end(`backend ${k} failed: ${(err as Error).message}`);
          else res.destroy();
        });
        up.end(body);
      };
      forward();
    });
  });

  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const tried = new Set<number>();
    const attempt = () => {
      const k = pick(tried);
      if (k < 0) return void client.destroy();
      const t = targets[k]!;
      const up = connect(Number(t.port), t.hostname);
      let connected = false;
      up.once('connect', () => {
        connected = true;
        sockets.add(up);
        served.push({ backend: k, method: 'UPGRADE', path: req.url ?? '/', status: 101, at: Date.now() });
        let raw = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
        for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
        up.write(`${raw}\r\n`);
        if (head.length) up.write(head);
        up.pipe(client).pipe(up);
      });
      up.on('error', (err) => (!connected && refused(err) ? attempt() : client.destroy()));
      up.on('close', () => {
        sockets.delete(up);
        if (connected) client.destroy();
      });
    };
    attempt();
  });

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${bound}`,
    served,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
