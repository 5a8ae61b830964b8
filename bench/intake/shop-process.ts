// The shop as its own process for the intake benchmark (compiled, as `npm start` runs it), and a
// stand-in gateway that counts requests: the accepted path must not call the gateway at all. It
// answers the reconciliation job's feed read with an empty page (so that the job, run once at start,
// succeeds instead of retrying into the measured window) and 503 to anything else.
import { runnable } from '../../src/platform/compiled.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { openSync, closeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { projectRoot } from '../../src/platform/project-root.ts';

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export const REPO_ROOT = projectRoot();

/** A gateway URL that counts what it was asked: an empty event feed, 503 for everything else. */
export interface CountingGateway {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startCountingGateway(): Promise<CountingGateway> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    if (req.method === 'GET' && req.url?.startsWith('/v1/events')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"next_cursor":null,"has_more":false}');
      return;
    }
    res
      .writeHead(503, { 'content-type': 'application/json' })
      .end('{"error":{"code":"bench.no_gateway","message":"intake bench"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ShopProcess {
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts the shop with the given database (URL or PGlite directory) and webhook secret. Its background
 * jobs are polled once at start and then not for an hour (SHOP_JOB_POLL_MS and the recurring periods),
 * so that the measured window holds the intake's own commits only.
 */
export async function startShopProcess(input: {
  database: { url: string } | { dataDir: string };
  webhookSecret: string;
  gatewayUrl: string;
  logFile: string;
  /** Directory for `node --cpu-prof` output (profiling the intake path); none by default. */
  cpuProfDir?: string | undefined;
}): Promise<ShopProcess> {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const hour = String(3600);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SHOP_PORT: String(port),
    SHOP_HOST: '127.0.0.1',
    SHOP_PUBLIC_URL: url,
    ...('url' in input.database
      ? { SHOP_DATABASE_URL: input.database.url }
      : { SHOP_DATA_DIR: input.database.dataDir }),
    SHOP_SESSION_SECRET: randomBytes(32).toString('base64url'),
    SHOP_GATEWAY_URL: input.gatewayUrl,
    SHOP_GATEWAY_API_KEY: `sk_test_${randomBytes(12).toString('base64url')}`,
    SHOP_GATEWAY_WEBHOOK_SECRETS: input.webhookSecret,
    SHOP_JOB_POLL_MS: String(3600_000),
    SHOP_EXPIRY_EVERY_SECONDS: hour,
    SHOP_RECONCILE_EVERY_SECONDS: hour,
  };
  const fd = openSync(input.logFile, 'a');
  // The shop as `npm start` runs it: compiled, without tsx.
  const entry = await runnable('shop/main.ts');
  const args = [
    ...entry.execArgv,
    ...(input.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${input.cpuProfDir}`] : []),
    entry.file,
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const kill = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', kill);

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`intake bench: the shop exited during start; see ${input.logFile}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`intake bench: the shop was not ready within 90 s; see ${input.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    logFile: input.logFile,
    async stop() {
      process.removeListener('exit', kill);
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 20_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
