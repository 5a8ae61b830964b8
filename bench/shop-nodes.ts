// `--shop-nodes N` (issue 19): N − 1 more shop processes beside the launcher's, on the shop's database,
// so that push is measured over several nodes whose hubs fan out through LISTEN/NOTIFY.
import { fork } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/support/harness/wiring.ts';

/** A shop process beside the launcher's (`--shop-nodes`): same database, same settings, its own port. */
export interface ShopNode {
  /** `shop-2`, `shop-3`, … (the launcher's shop is `shop`). */
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The command line and environment a running process was started with (/proc). */
function processLaunch(pid: number): { execPath: string; execArgv: string[]; file: string; env: NodeJS.ProcessEnv } {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  const env = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { execPath: argv[0]!, execArgv: argv.slice(1, -1), file: argv.at(-1)!, env };
}

/**
 * Starts `count` more shop processes on the shop's database, each the launcher's shop program with its
 * exact flags and environment (settings, secrets, SHOP_PUBLIC_URL: as nodes behind one address) but its
 * own port, hub and workers (job claims and the sealer are safe on several nodes). Their log lines go to
 * `<logDir>/shop-<n>.log`. Resolves when every one serves.
 */
export async function startShopNodes(firstShopPid: number, count: number, logDir: string): Promise<ShopNode[]> {
  const launch = processLaunch(firstShopPid);
  const nodes: ShopNode[] = [];
  try {
    for (let n = 2; n <= count + 1; n++) nodes.push(await startShopNode(launch, `shop-${n}`, logDir));
  } catch (err) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw err;
  }
  return nodes;
}

async function startShopNode(
  launch: ReturnType<typeof processLaunch>,
  name: string,
  logDir: string,
): Promise<ShopNode> {
  const port = await freePort();
  const logFile = join(logDir, `${name}.log`);
  const log = openSync(logFile, 'a');
  const child = fork(launch.file, [], {
    // --cpu-prof: this node's profile goes beside the first node's, under its own name.
    execArgv: launch.execArgv.map((a) => a.replace(/^(--cpu-prof-dir=.*)\/shop$/, `$1/${name}`)),
    execPath: launch.execPath,
    // The demo accounts exist: the first node made them (re-hashing their passwords only slows the start).
    env: { ...launch.env, SHOP_PORT: String(port), SHOP_DEMO_DATA: 'false' },
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const killNow = () => child.kill('SIGKILL');
  process.once('exit', killNow);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tail = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready in 120 s:\n${tail()}`)), 120_000);
    child.on('message', (m) => {
      if ((m as { type?: string }).type !== 'ready') return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${tail()}`));
    });
  }).catch(async (err: unknown) => {
    killNow();
    await exited;
    throw err;
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      process.off('exit', killNow);
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM: it closes its server and sockets and finishes its jobs, as the launcher stops its shop.
      child.kill('SIGTERM');
      const timer = setTimeout(killNow, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
