// Boots one party as a service: its database (migrated), its HTTP edge, its background workers, and
// a stop that closes them in the right order (stop taking requests, finish jobs, close sockets,
// close the database) so that nothing is lost on Ctrl-C.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { openDatabase, type Database, type DatabaseSpec } from './db/database.ts';
import { createServiceApp } from './http/app.ts';
import { createMetrics, type HttpMetrics } from './http/metrics.ts';
import { listen } from './http/server.ts';
import { createLogger, type Logger } from './log.ts';
import { databaseUrl, logLevel, parseEnv, port } from './config.ts';
import { parseTls, type TlsSettings } from './tls.ts';

/** Where and how one party listens and stores, read from `<PARTY>_*` variables. */
export interface ServiceBase {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly logLevel: string;
  /** HTTPS certificate and the extra CA for outbound calls (`<P>_TLS_*`, `COUNTERSIGN_CA_FILE`). */
  readonly tls: TlsSettings;
}

/** Parses the variables every party has: `<P>_PORT`, `<P>_HOST`, `<P>_PUBLIC_URL`, `<P>_DATABASE_URL`, `<P>_DATA_DIR`, `DATA_DIR`, `LOG_LEVEL`, `<P>_TLS_*`. */
export function parseServiceBase(
  party: string,
  defaultPort: number,
  env: Record<string, string | undefined> = process.env,
): ServiceBase {
  const P = party.toUpperCase();
  const raw = parseEnv(
    party,
    {
      [`${P}_PORT`]: port(defaultPort),
      [`${P}_HOST`]: z.string().min(1).default('127.0.0.1'),
      [`${P}_PUBLIC_URL`]: z.url().optional(),
      [`${P}_DATABASE_URL`]: databaseUrl,
      [`${P}_DATA_DIR`]: z.string().min(1).optional(),
      DATA_DIR: z.string().min(1).default('./data'),
      LOG_LEVEL: logLevel,
    },
    env,
  ) as Record<string, unknown>;
  const p = raw[`${P}_PORT`] as number;
  const host = raw[`${P}_HOST`] as string;
  const tls = parseTls(party, env);
  return Object.freeze({
    port: p,
    host,
    tls,
    publicUrl: (
      (raw[`${P}_PUBLIC_URL`] as string | undefined) ??
      `${tls.server ? 'https' : 'http'}://${host === '0.0.0.0' ? 'localhost' : host}:${p}`
    ).replace(/\/$/, ''),
    databaseUrl: raw[`${P}_DATABASE_URL`] as string | undefined,
    dataDir: (raw[`${P}_DATA_DIR`] as string | undefined) ?? join(raw.DATA_DIR as string, party),
    logLevel: raw.LOG_LEVEL as string,
  });
}

/** What a party's composition root gets to wire its routes, jobs and real-time into. */
export interface ServiceContext {
  readonly name: string;
  readonly database: Database;
  readonly app: ReturnType<typeof createServiceApp>;
  readonly log: Logger;
  readonly metrics: HttpMetrics;
}

/** What a party hands back: things to start once listening, and to stop before the database closes. */
export interface Composition {
  /** Called with the live HTTP server (to attach WebSockets) after listen. */
  readonly onListening?: (server: import('node:http').Server, url: string) => Promise<void> | void;
  /** Stops workers, hubs and timers; runs while requests drain, before the database closes. */
  readonly onStop?: () => Promise<void>;
}

/** A running service. */
export interface ServiceHandle {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly database: Database;
  readonly app: ReturnType<typeof createServiceApp>;
  stop(): Promise<void>;
}

export interface BootOptions {
  readonly name: string;
  readonly spec: DatabaseSpec;
  readonly base: ServiceBase;
  readonly log?: Logger;
  /** An already-open database (tests); otherwise opened from `base`. */
  readonly database?: Database;
  readonly compose: (ctx: ServiceContext) => Promise<Composition> | Composition;
}

/** Opens the database, composes the party, listens. */
export async function bootService(opts: BootOptions): Promise<ServiceHandle> {
  const log = opts.log ?? createLogger(opts.name, opts.base.logLevel);
  const database =
    opts.database ??
    (await openDatabase(
      opts.spec,
      opts.base.databaseUrl
        ? { engine: 'postgres', url: opts.base.databaseUrl }
        : { engine: 'pglite', dataDir: opts.base.dataDir },
    ));
  const metrics = createMetrics(opts.name);
  // HSTS follows the public URL, not the listener: behind a TLS-terminating proxy the browser still sees https.
  const app = createServiceApp({
    name: opts.name,
    log,
    metrics,
    ready: () => database.ready(),
    hsts: opts.base.publicUrl.startsWith('https:'),
  });
  let composition: Composition;
  try {
    composition = await opts.compose({ name: opts.name, database, app, log, metrics });
  } catch (err) {
    await database.close();
    throw err;
  }
  const server = await listen(app.fetch, opts.base.port, opts.base.host, opts.base.tls.server);
  await composition.onListening?.(server.server, server.url);
  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    url: opts.base.port === 0 ? server.url : opts.base.publicUrl,
    port: server.port,
    database,
    app,
    stop: () =>
      (stopping ??= (async () => {
        // Draining requests and stopping hubs and workers run together: an upgraded WebSocket keeps
        // server.close() waiting until the hub closes it. Jobs a late request enqueues are durable rows.
        await Promise.all([server.close(), composition.onStop?.()]);
        await database.close();
        log.info('stopped');
      })()),
  };
}

/** True when the module at `metaUrl` is the process's entry point. */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === metaUrl;
}

/** Runs a service as its own process: prints its line, tells a parent launcher, stops on signals. */
export async function runAsMain(start: () => Promise<ServiceHandle>): Promise<void> {
  let handle: ServiceHandle;
  try {
    handle = await start();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
  console.log(`${handle.name.padEnd(8)} ${handle.url}`);
  process.send?.({ type: 'ready', name: handle.name, url: handle.url });
  const shutdown = async () => {
    try {
      await handle.stop();
      process.exit(0);
    } catch (err) {
      console.error(`${handle.name}: stop failed`, err);
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  process.on('message', (m) => {
    if ((m as { type?: string })?.type === 'stop') void shutdown();
  });
}
