// Runs the real `countersign` command line as a user does (its bin, bin/countersign.mjs …) and
// collects what it printed and how it exited.
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../src/platform/project-root.ts';

const ROOT = projectRoot();

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns `countersign …args` with `env` over the process environment; resolves when it exits. */
export function countersign(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<CliRun> {
  const child = spawnCountersign(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += String(d)));
  child.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`countersign ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Spawns `countersign …args` and leaves it running (for start and listen). */
export function spawnCountersign(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['bin/countersign.mjs', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the output so far once a line matches `pattern` (rejects if the process exits first or after `ms`). */
export function waitForLine(child: ChildProcess, pattern: RegExp, ms = 120_000): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in ${ms} ms:\n${seen}`)), ms);
    const onData = (d: Buffer) => {
      seen += String(d);
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(seen);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (seen += String(d)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before a line matching ${pattern}:\n${seen}`));
    });
  });
}
