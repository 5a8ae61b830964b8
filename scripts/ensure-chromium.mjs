#!/usr/bin/env node
// Make sure a Chromium binary is available for browser tests.
//
//   import { ensureChromium } from './ensure-chromium.mjs';
//   const path = await ensureChromium();   // e.g. /usr/bin/chromium
//
// Order: $CHROMIUM_PATH if set (must exist), else /usr/bin/chromium, else (as
// root) install Debian's `chromium` package with apt-get, else fail with a
// message saying what to install. Playwright's own browser download is never
// used: only the npm registry and Debian's apt repositories are reachable.
// Run directly (`node scripts/ensure-chromium.mjs`) to install and print the path.

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
const APT_PACKAGES = ['chromium', 'fonts-liberation'];
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Run a command, prefixing each output line so apt's progress is readable. */
function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const relay = (stream, out) => {
      let buf = '';
      stream.on('data', (d) => {
        buf += d;
        const lines = buf.split(/\r?\n/);
        buf = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) out.write(`  [${cmd}] ${line}\n`);
      });
      stream.on('end', () => buf.trim() && out.write(`  [${cmd}] ${buf}\n`));
    };
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

function versionOf(exe) {
  const r = spawnSync(exe, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Return the path of a usable Chromium, installing it with apt-get when root.
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {Promise<string>}
 */
export async function ensureChromium({ log = (line) => console.log(line) } = {}) {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`CHROMIUM_PATH is set to ${fromEnv}, but that is not an executable file.`);
  }
  if (isExecutable(DEFAULT_CHROMIUM_PATH)) return DEFAULT_CHROMIUM_PATH;

  const what = `Debian packages ${APT_PACKAGES.join(' ')}`;
  if (!IS_ROOT) {
    throw new Error(
      `Chromium is not installed (${DEFAULT_CHROMIUM_PATH} missing) and this is not root, so it cannot be installed here.\n` +
        `Install it with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${APT_PACKAGES.join(' ')}\n` +
        `or point CHROMIUM_PATH at an existing Chromium binary.`,
    );
  }
  if (!existsSync('/usr/bin/apt-get')) {
    throw new Error(`Chromium is not installed and apt-get is not available to install ${what}.`);
  }

  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const started = Date.now();
  log(`chromium: ${DEFAULT_CHROMIUM_PATH} missing; installing ${what} (apt-get, one-off)...`);
  log('chromium: apt-get update...');
  await run('apt-get', ['update', '-q'], env);
  log(`chromium: apt-get install ${APT_PACKAGES.join(' ')}...`);
  await run(
    'apt-get',
    ['install', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Use-Pty=0', ...APT_PACKAGES],
    env,
  );
  if (!isExecutable(DEFAULT_CHROMIUM_PATH)) {
    throw new Error(`apt-get install finished but ${DEFAULT_CHROMIUM_PATH} is still missing.`);
  }
  log(
    `chromium: installed ${versionOf(DEFAULT_CHROMIUM_PATH) ?? DEFAULT_CHROMIUM_PATH} ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return DEFAULT_CHROMIUM_PATH;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureChromium().then(
    (p) => console.log(p),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
