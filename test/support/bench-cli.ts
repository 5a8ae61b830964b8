// `npm run bench` as a child process, for the tests of its --baseline option: what it printed and how it exited.
import { spawn, spawnSync } from 'node:child_process';
import { projectRoot } from '../../src/platform/project-root.ts';

export const ROOT = projectRoot();

/** A git command in this repository; its trimmed stdout. */
export const git = (...args: string[]) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).stdout.trim();

export interface BenchRun {
  code: number | null;
  /** stdout and stderr interleaved as they came. */
  output: string;
  stderr: string;
}

/** Runs bench/run.ts with `args`, its baseline checkouts and installs kept in `cacheDir`. */
export function bench(args: string[], cacheDir: string): Promise<BenchRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, BENCH_BASELINE_DIR: cacheDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => {
    output += String(d);
    stderr += String(d);
  });
  return new Promise((r) => child.once('exit', (code) => r({ code, output, stderr })));
}
