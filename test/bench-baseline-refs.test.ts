// `npm run bench -- --baseline <ref>` with refs it cannot use: each fails at once, with a message
// that says why and a non-zero exit, writes nothing and leaves a leftover checkout as it found it.
// (The comparison itself, run for real: test/bench-baseline.test.ts.)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const git = (...args: string[]) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).stdout.trim();

interface Run {
  code: number | null;
  output: string;
  stderr: string;
}

function bench(args: string[], cacheDir: string): Promise<Run> {
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

describe('npm run bench -- --baseline: refs it cannot use', () => {
  const cache = mkdtempSync(join(tmpdir(), 'cs-bench-baseline-refs-'));
  const out = mkdtempSync(join(tmpdir(), 'cs-bench-baseline-refs-out-'));
  after(() => {
    rmSync(cache, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('an unknown ref fails at once with a message naming it, a non-zero exit and nothing written', async () => {
    const ref = `no-such-ref-${process.pid}`;
    const r = await bench(['--baseline', ref, '--out', out], cache);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, new RegExp(`unknown git ref '${ref}'`), r.output);
    assert.doesNotMatch(r.output, /at \w+ \(/, 'a message, not a stack trace');
    assert.deepEqual(readdirSync(out), []);
    assert.deepEqual(readdirSync(cache), []);
  });

  it('a commit from before the bench existed fails: its tree has no bench/run.ts', async () => {
    const added = git('log', '--format=%H', '--diff-filter=A', '--', 'bench/run.ts').split('\n').at(-1)!;
    const before = git('rev-parse', `${added}^`);
    const r = await bench(['--baseline', before, '--out', out], cache);
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /has no bench\/run\.ts/, r.output);
    assert.deepEqual(readdirSync(out), []);
  });

  it('a leftover checkout with changes in it is refused and left alone', async () => {
    const sha = git('rev-parse', 'HEAD');
    const dir = join(cache, sha);
    assert.equal(spawnSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, sha]).status, 0);
    try {
      writeFileSync(join(dir, 'package.json'), '{}\n');
      const r = await bench(['--baseline', 'HEAD', '--out', out], cache);
      assert.equal(r.code, 1, r.output);
      assert.match(r.stderr, /the baseline checkout .* is dirty/, r.output);
      assert.equal(readFileSync(join(dir, 'package.json'), 'utf8'), '{}\n', 'the change is still there to look at');
      assert.deepEqual(readdirSync(out), []);
    } finally {
      spawnSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', dir]);
    }
  });
});
