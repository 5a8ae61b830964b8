// The baseline's tree for `npm run bench -- --baseline <ref>`: the ref resolved to a commit, checked
// out beside the working tree as a detached `git worktree` in the cache directory (bench/.baseline,
// gitignored, or BENCH_BASELINE_DIR), with its dependencies installed. The user's working tree and
// index are never touched: only `git worktree add/remove` on a directory of our own.
//
// Cache: the checkout is removed (and its worktree registration with it) when the run ends; the
// installed dependencies stay, keyed by the hash of package-lock.json, so a second run of the same
// baseline does not install again. When the baseline's package-lock.json is the working tree's, its
// node_modules is a symlink to the working tree's own (same lockfile, same packages): no install at all.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A failure the user can act on: printed as is, without a stack. */
export class BaselineError extends Error {}

export interface BaselineTree {
  readonly ref: string;
  readonly sha: string;
  readonly subject: string;
  readonly dir: string;
  /** How node_modules was provided: the working tree's (same lockfile), a cached install, or a new one. */
  readonly modules: 'shared with the working tree' | 'cached install' | 'installed now';
  /** The source of the baseline's bench/run.ts (which options it knows). */
  readonly runSource: string;
  /** Removes the checkout and its worktree registration (the installed dependencies stay cached). */
  remove(): void;
}

function git(cwd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', ['-C', cwd, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

/** The working tree's repository root and HEAD, and whether it has uncommitted changes. */
export function currentTree(root: string): { head: string; dirty: boolean } {
  const top = git(root, ['rev-parse', '--show-toplevel']);
  if (!top.ok || resolve(top.out) !== resolve(root))
    throw new BaselineError(`--baseline needs a git checkout: ${root} is not the top of one (${top.err || top.out})`);
  const head = git(root, ['rev-parse', 'HEAD']).out;
  const dirty = git(root, ['status', '--porcelain', '--untracked-files=no']).out !== '';
  return { head, dirty };
}

/** The commit a ref names, or a clear error; checks that its tree has a bench to run. */
export function resolveBaselineRef(root: string, ref: string): { sha: string; subject: string } {
  if (!ref || ref.startsWith('-')) throw new BaselineError(`--baseline needs a git ref (got '${ref}')`);
  const r = git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!r.ok || !/^[0-9a-f]{40}$/.test(r.out))
    throw new BaselineError(
      `unknown git ref '${ref}': \`git rev-parse --verify '${ref}^{commit}'\` names no commit in ${root} (a branch, tag or commit sha is expected; fetch it first if it is remote)`,
    );
  const sha = r.out;
  if (!git(root, ['cat-file', '-e', `${sha}:bench/run.ts`]).ok)
    throw new BaselineError(
      `the baseline ${ref} (${sha.slice(0, 10)}) has no bench/run.ts: it predates \`npm run bench\` and cannot be measured by it`,
    );
  const subject = git(root, ['log', '-1', '--format=%s', sha]).out;
  return { sha, subject };
}

/** Where checkouts and installs are kept (BENCH_BASELINE_DIR, or bench/.baseline). */
export function baselineCacheDir(root: string): string {
  return resolve(process.env.BENCH_BASELINE_DIR ?? join(root, 'bench', '.baseline'));
}

/** Registered worktrees of this repository (their paths). */
function worktrees(root: string): string[] {
  return git(root, ['worktree', 'list', '--porcelain'])
    .out.split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => resolve(l.slice('worktree '.length)));
}

/** Another run of the same baseline must not check out into, or remove, the same directory. */
function takeLock(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lockFile, 'utf8'));
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = pid !== process.pid;
      } catch {
        alive = false;
      }
      if (alive) throw new BaselineError(`another --baseline run (pid ${pid}) is using this baseline (${lockFile})`);
      rmSync(lockFile, { force: true }); // its process is gone
    }
  }
  throw new BaselineError(`could not lock ${lockFile}`);
}

/** A checkout left by a run that was killed is reused only if it is still exactly the commit. */
function checkLeftover(root: string, dir: string, sha: string): void {
  if (!worktrees(root).includes(dir))
    throw new BaselineError(
      `${dir} exists but is not a worktree of this repository: move it away (the baseline is checked out there)`,
    );
  const head = git(dir, ['rev-parse', 'HEAD']).out;
  const status = git(dir, ['status', '--porcelain'])
    .out.split('\n')
    .filter((l) => l && l !== '?? node_modules');
  if (head !== sha || status.length)
    throw new BaselineError(
      `the baseline checkout ${dir} is dirty (HEAD ${head.slice(0, 10)}, ${status.length} changed path(s): ${status.slice(0, 3).join('; ')}): look at it, then \`git worktree remove --force ${dir}\``,
    );
}

function provideModules(root: string, cache: string, dir: string, sha: string): BaselineTree['modules'] {
  const link = join(dir, 'node_modules');
  if (existsSync(link)) rmSync(link, { recursive: false, force: true });
  const lock = git(root, ['show', `${sha}:package-lock.json`]);
  const ours = join(root, 'package-lock.json');
  if (lock.ok && existsSync(ours) && readFileSync(ours, 'utf8').trim() === lock.out) {
    if (!existsSync(join(root, 'node_modules'))) throw new BaselineError('node_modules is missing: run `npm ci` first');
    symlinkSync(join(root, 'node_modules'), link, 'dir');
    return 'shared with the working tree';
  }
  const key = `${createHash('sha256').update(lock.out).digest('hex').slice(0, 16)}-node${process.versions.node.split('.')[0]}`;
  // deps/<key>/node_modules, a directory really named node_modules: a package in it must find its own
  // dependencies there, never by walking up into the working tree's node_modules (two copies of hono
  // then met in one request and the baseline's shop answered every request with an internal error).
  const installed = join(cache, 'deps', key, 'node_modules');
  let how: BaselineTree['modules'] = 'cached install';
  if (!existsSync(join(installed, '.package-lock.json'))) {
    process.stdout.write(`installing the baseline's dependencies (npm ci in ${dir}; cached as ${installed})…\n`);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) throw new BaselineError(`npm ci of the baseline ${sha.slice(0, 10)} failed (exit ${r.status})`);
    mkdirSync(dirname(installed), { recursive: true });
    rmSync(installed, { recursive: true, force: true });
    renameSync(join(dir, 'node_modules'), installed);
    how = 'installed now';
  }
  symlinkSync(installed, link, 'dir');
  return how;
}

/** Checks the baseline out (or reuses a clean leftover checkout) and gives it its dependencies. */
export function prepareBaselineTree(root: string, ref: string): BaselineTree {
  const { sha, subject } = resolveBaselineRef(root, ref);
  const cache = baselineCacheDir(root);
  mkdirSync(cache, { recursive: true });
  const dir = join(cache, sha);
  const unlock = takeLock(`${dir}.lock`);
  let added = false;
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    if (added) {
      const r = git(root, ['worktree', 'remove', '--force', dir]);
      if (!r.ok) process.stderr.write(`could not remove the baseline checkout ${dir}: ${r.err}\n`);
    }
    unlock();
  };
  try {
    if (existsSync(dir)) checkLeftover(root, dir, sha);
    else {
      // A registration whose directory was deleted by hand is overridden (--force), nothing else.
      const force = worktrees(root).includes(dir) ? ['--force'] : [];
      const r = git(root, ['worktree', 'add', ...force, '--detach', dir, sha]);
      if (!r.ok) throw new BaselineError(`git worktree add ${dir} ${sha.slice(0, 10)} failed: ${r.err}`);
    }
    added = true;
    const modules = provideModules(root, cache, dir, sha);
    const runSource = readFileSync(join(dir, 'bench', 'run.ts'), 'utf8');
    return { ref, sha, subject, dir, modules, runSource, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/** Whether a bench/run.ts declares `--name` among its parseArgs options. */
export function benchSupportsOption(runSource: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return new RegExp(`(^|[\\s{,])['"]?${escaped}['"]?\\s*:\\s*\\{\\s*type\\s*:`, 'm').test(runSource);
}
