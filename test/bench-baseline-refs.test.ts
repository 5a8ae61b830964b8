// `npm run bench -- --baseline <ref>` with refs it cannot use: each fails at once, with a message
// that says why and a non-zero exit, writes nothing and leaves a leftover checkout as it found it.
// Also the order of the runs, the median of each side and the intake's figures. (The comparison itself, run for real:
// test/bench-baseline.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { planRuns, sharedArgs } from '../bench/baseline.ts';
import type { BaselineTree } from '../bench/baseline-tree.ts';
import { parseBenchArgs } from '../bench/run.ts';
import { compareRuns, median, type LooseResults, type RunRecord } from '../bench/compare.ts';
import { bench, git, ROOT } from './support/bench-cli.ts';

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

describe('npm run bench -- --baseline: the order of the runs and the medians', () => {
  it('interleaves the trees at every customer count, the first side alternating between rounds, the intake with the first count', () => {
    const plan = planRuns(3, [8, 32], true).map(
      (p) => `r${p.round} ${p.side} c=${p.customers}${p.intake ? ' +intake' : ''}`,
    );
    assert.deepEqual(plan, [
      'r1 baseline c=8 +intake',
      'r1 current c=8 +intake',
      'r1 baseline c=32',
      'r1 current c=32',
      'r2 current c=8 +intake',
      'r2 baseline c=8 +intake',
      'r2 current c=32',
      'r2 baseline c=32',
      'r3 baseline c=8 +intake',
      'r3 current c=8 +intake',
      'r3 baseline c=32',
      'r3 current c=32',
    ]);
    assert.ok(
      planRuns(2, [8], false).every((p) => !p.intake),
      '--no-intake: no run has it',
    );
  });

  it('takes the median of the runs that have the figure, the mean of the middle two for an even count', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, null, 1]), 3, 'a run without the figure does not count');
    assert.equal(median([null, null]), null);
    assert.equal(median([]), null);
  });
});

describe('npm run bench -- --baseline: the intake figures', () => {
  const intakeRun = (side: 'baseline' | 'current', round: number, perSecond: number, tps: number): RunRecord => {
    const results: LooseResults = {
      intake: {
        rows: [
          { engine: 'postgres', concurrency: 8, perSecond, pgbench: { tps }, ratioToPgbench: perSecond / tps },
          { engine: 'pglite', concurrency: 8, perSecond: perSecond / 2, ratioToPostgres: 0.5 },
        ],
      },
    };
    return { round, side, customers: 8, intake: true, dir: '', results };
  };
  const flowOnly: RunRecord = { round: 1, side: 'current', customers: 8, intake: false, dir: '', results: {} };

  it("reads deliveries/s and the ratio to pgbench from each side's runs with the intake, and divides current by baseline", () => {
    const figures = compareRuns(
      [
        intakeRun('baseline', 1, 100, 400),
        intakeRun('current', 1, 300, 400),
        flowOnly,
        intakeRun('current', 2, 250, 500),
        intakeRun('baseline', 2, 120, 300),
      ],
      [8],
    );
    const f = (key: string) => figures.find((x) => x.key === key)!;
    assert.deepEqual(f('intake.postgres.c8.perSecond').baseline, { values: [100, 120], median: 110, spread: 10 / 110 });
    assert.deepEqual(f('intake.postgres.c8.perSecond').current, { values: [300, 250], median: 275, spread: 25 / 275 });
    assert.equal(f('intake.postgres.c8.perSecond').ratio, 275 / 110);
    assert.deepEqual(f('intake.postgres.c8.ratioToPgbench').baseline.values, [0.25, 0.4]);
    assert.deepEqual(f('intake.postgres.c8.ratioToPgbench').current.values, [0.75, 0.5]);
    assert.equal(f('intake.postgres.c8.ratioToPgbench').ratio, 0.625 / 0.325);
    assert.equal(f('intake.postgres.c8.pgbenchTps').ratio, 450 / 350);
    assert.equal(f('intake.pglite.c8.ratioToPostgres').ratio, 1);
    assert.deepEqual(
      figures.filter((x) => x.group === 'webhook intake').map((x) => x.key),
      [
        'intake.postgres.c8.perSecond',
        'intake.postgres.c8.ratioToPgbench',
        'intake.postgres.c8.pgbenchTps',
        'intake.pglite.c8.perSecond',
        'intake.pglite.c8.ratioToPostgres',
      ],
    );
    // A run without a figure has no value for it, and a side without any has no ratio.
    assert.deepEqual(f('flow.c8.paidPerSecond').current, { values: [null, null, null], median: null, spread: null });
    assert.equal(f('flow.c8.paidPerSecond').ratio, null);
  });
});

describe('npm run bench -- --baseline: the options both trees get', () => {
  const tree = (runSource: string): BaselineTree => ({
    ref: 'old',
    sha: '0123456789abcdef',
    subject: 'an older bench',
    dir: '/nowhere',
    modules: 'shared with the working tree',
    runSource,
    remove: () => undefined,
  });
  const knows = (...names: string[]) =>
    tree(['customers', 'out', 'no-intake', 'duration', ...names].map((n) => `'${n}': { type: 'string' },`).join('\n'));

  it('passes --shop-nodes and --watcher-processes on, so both trees run the same push scenario', () => {
    const o = parseBenchArgs(['--shop-nodes', '3', '--watcher-processes', '2', '--watchers', '10000']);
    const { args } = sharedArgs(
      o,
      new Set(['shop-nodes', 'watcher-processes', 'watchers']),
      knows('shop-nodes', 'watcher-processes', 'watchers'),
    );
    const flag = (name: string) => args[args.indexOf(`--${name}`) + 1];
    assert.equal(flag('shop-nodes'), '3');
    assert.equal(flag('watcher-processes'), '2');
    assert.equal(flag('watchers'), '10000');
  });

  it('refuses --shop-nodes for a baseline whose bench has no such option rather than run it on one node', () => {
    const o = parseBenchArgs(['--shop-nodes', '3']);
    assert.throws(() => sharedArgs(o, new Set(['shop-nodes']), knows()), /has no --shop-nodes/);
    const { dropped } = sharedArgs(parseBenchArgs([]), new Set(), knows());
    assert.ok(dropped.includes('--shop-nodes'), "not given: left to each side's default, and reported");
  });
});
