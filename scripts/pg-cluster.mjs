#!/usr/bin/env node
// Throwaway PostgreSQL 15 cluster for tests and local development.
//
//   import { startThrowawayPostgres } from './pg-cluster.mjs';
//   const pg = await startThrowawayPostgres();   // { url, dir, port, stop() }
//   ...
//   await pg.stop();                              // pg_ctl stop -m fast + rm -rf
//
// Run directly (`node scripts/pg-cluster.mjs`) to start one, print its URL and
// keep it running until Ctrl-C.
//
// The cluster lives in a fresh temp dir (data dir + unix socket dir), listens
// only on 127.0.0.1 on a free port, and is tuned for speed, not durability.
// When this process runs as root, initdb/pg_ctl run as the `postgres` user
// (initdb refuses root). A small detached watchdog stops the cluster if the
// process that started it dies without calling stop() (even on SIGKILL).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const PG_MAJOR = '15';
const PG_BIN = process.env.COUNTERSIGN_PG_BIN ?? `/usr/lib/postgresql/${PG_MAJOR}/bin`;
const PG_STAT_STATEMENTS_CONTROL = `/usr/share/postgresql/${PG_MAJOR}/extension/pg_stat_statements.control`;
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const SELF = fileURLToPath(import.meta.url);

/** Resolve the uid/gid of the `postgres` system user (only needed when root). */
function postgresUser() {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) {
    throw new Error('running as root but there is no `postgres` system user to run initdb/pg_ctl as');
  }
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Build the argv to run a PostgreSQL binary, as `postgres` when we are root. */
function pgCommand(binary, args) {
  const exe = path.join(PG_BIN, binary);
  return IS_ROOT ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
}

/** Run a PostgreSQL binary to completion; reject with its output on failure. */
function runPg(binary, args, { cwd } = {}) {
  const [cmd, argv] = pgCommand(binary, args);
  return new Promise((resolve, reject) => {
    // stdin ignored; stdout/stderr captured (pg_ctl's own output is tiny,
    // the server log goes to a file). Never inherit: the detached postmaster
    // must not hold our pipes open.
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${binary} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${out.trim()}`));
    });
  });
}

/** Find a free TCP port on 127.0.0.1 by binding port 0. */
export function findFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** Retry `select 1` until the server accepts connections. */
async function waitUntilReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `PostgreSQL did not accept connections within ${timeoutMs} ms: ${lastError?.message ?? 'unknown error'}`,
  );
}

/** Synchronous best-effort teardown, usable from 'exit' handlers and the watchdog. */
function stopSync(dir, dataDir) {
  if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
    const [cmd, argv] = pgCommand('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']);
    spawnSync(cmd, argv, { stdio: 'ignore', cwd: dir });
  }
  spawnSync('rm', ['-rf', dir], { stdio: 'ignore' });
}

/**
 * Start a throwaway PostgreSQL cluster.
 * @param {{ readyTimeoutMs?: number, watchdog?: boolean }} [options]
 * @returns {Promise<{ url: string, port: number, dir: string, logFile: string, stop: () => Promise<void> }>}
 */
export async function startThrowawayPostgres({ readyTimeoutMs = 30_000, watchdog = true } = {}) {
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(path.join(PG_BIN, bin))) {
      throw new Error(
        `PostgreSQL ${PG_MAJOR} binary ${path.join(PG_BIN, bin)} not found. ` +
          `Install it with: apt-get install -y postgresql-${PG_MAJOR} (or set COUNTERSIGN_PG_BIN)`,
      );
    }
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'countersign-pg-'));
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'sock');
  const logFile = path.join(dir, 'postgres.log');
  await mkdir(socketDir);
  if (IS_ROOT) {
    const { uid, gid } = postgresUser();
    await chown(dir, uid, gid);
    await chown(socketDir, uid, gid);
  }

  let stopped = false;
  let watchdogChild;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    try {
      if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
        await runPg('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60', '-s'], { cwd: dir });
      }
    } finally {
      watchdogChild?.kill();
      await rm(dir, { recursive: true, force: true });
    }
  };
  // Last resort when the owner exits without awaiting stop() (process.exit(),
  // uncaught exception): 'exit' handlers must be synchronous.
  const onExit = () => {
    if (stopped) return;
    stopped = true;
    watchdogChild?.kill();
    stopSync(dir, dataDir);
  };
  process.on('exit', onExit);

  try {
    await runPg(
      'initdb',
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C', '--no-instructions'],
      { cwd: dir },
    );

    const preload = existsSync(PG_STAT_STATEMENTS_CONTROL) ? "'pg_stat_statements'" : "''";
    const settings = {
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: `'${socketDir}'`,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '300',
      shared_preload_libraries: preload,
      logging_collector: 'off',
      log_min_messages: 'warning',
    };
    await appendFile(
      path.join(dataDir, 'postgresql.conf'),
      '\n# countersign throwaway test cluster\n' +
        Object.entries(settings)
          .map(([k, v]) => `${k} = ${v}\n`)
          .join(''),
    );

    // The port is picked just before starting; another process could grab it
    // in between, so retry a few times with a new port.
    let port;
    for (let attempt = 1; ; attempt++) {
      port = await findFreePort();
      try {
        await runPg('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-s', '-o', `-p ${port}`], {
          cwd: dir,
        });
        break;
      } catch (err) {
        if (attempt >= 3) {
          const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim() : '(no server log)';
          throw new Error(`${err.message}\n--- server log ---\n${log}`);
        }
      }
    }

    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    if (watchdog) watchdogChild = startWatchdog(dir, dataDir);
    await waitUntilReady(url, readyTimeoutMs);
    return { url, port, dir, logFile, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Spawn a detached process that tears the cluster down once our process is gone. */
function startWatchdog(dir, dataDir) {
  const child = spawn(process.execPath, [SELF, '--watchdog', String(process.pid), dir, dataDir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}

function runWatchdog(parentPid, dir, dataDir) {
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return err.code === 'EPERM';
    }
  };
  const timer = setInterval(() => {
    if (!existsSync(dir)) process.exit(0); // owner cleaned up normally
    if (!alive(parentPid)) {
      stopSync(dir, dataDir);
      process.exit(0);
    }
  }, 1000);
  // Our owner kills us after a normal stop(); nothing to do then.
  process.on('SIGTERM', () => {
    clearInterval(timer);
    process.exit(0);
  });
}

async function main() {
  const started = Date.now();
  const cluster = await startThrowawayPostgres();
  console.log(`PostgreSQL ${PG_MAJOR} ready in ${Date.now() - started} ms`);
  console.log(`  data dir: ${cluster.dir}`);
  console.log(`  log:      ${cluster.logFile}`);
  console.log('');
  console.log(`COUNTERSIGN_TEST_PG_URL=${cluster.url}`);
  console.log('');
  console.log('Press Ctrl-C to stop and delete it.');
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping PostgreSQL...`);
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  setInterval(() => {}, 1 << 30); // keep running
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  if (process.argv[2] === '--watchdog') {
    runWatchdog(Number(process.argv[3]), process.argv[4], process.argv[5]);
  } else {
    main().catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
  }
}
