// `npm run bench -- --baseline <ref>` in miniature: HEAD's tree checked out beside this one and both
// benches run for real (each tree's own bench/run.ts as a process: the three services, 2 customers,
// 4 watchers, on the test PostgreSQL), one round. It proves the
// comparison is made of the two trees' own numbers — every median and ratio of baseline.json is
// recomputed here from each run's own results file — and that the user's checkout is left as it was;
// not how fast anything is. The checkout goes into a temp dir (BENCH_BASELINE_DIR), and HEAD's
// package-lock.json being this tree's, its node_modules is a symlink to this tree's: no second npm ci.
// Without the intake: its commit counters settle 11 s around each window, which took two tiny runs
// past 3 minutes on a busy 2-core machine (the intake's figures are compared from two results files
// in test/bench-baseline-refs.test.ts, with the refs it cannot use; the intake itself: bench-smoke).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminUrl } from '../src/platform/db/testing.ts';
import type { BenchResults } from '../bench/report.ts';
import type { Figure } from '../bench/compare.ts';
import { bench, git, ROOT, type BenchRun } from './support/bench-cli.ts';

/**
 * What must not change: this checkout's HEAD, status and index, and which worktrees the repository
 * has (not their HEADs: other worktrees of a shared repository may commit meanwhile).
 */
function checkoutState(): string {
  const index = readFileSync(resolve(ROOT, git('rev-parse', '--git-path', 'index')));
  return [
    git('rev-parse', 'HEAD'),
    git('status', '--porcelain'),
    createHash('sha256').update(index).digest('hex'),
    git('worktree', 'list', '--porcelain')
      .split('\n')
      .filter((l) => l.startsWith('worktree '))
      .join('\n'),
  ].join('\n--\n');
}

describe('npm run bench -- --baseline HEAD (1 round: 2 s, 2 customers, 4 watchers, no intake)', () => {
  const cache = mkdtempSync(join(tmpdir(), 'cs-bench-baseline-cache-'));
  const out = mkdtempSync(join(tmpdir(), 'cs-bench-baseline-'));
  const head = git('rev-parse', 'HEAD');
  let stateBefore = '';
  let run: BenchRun;
  let report: {
    baseline: { ref: string; sha: string };
    caveat: string;
    runs: Array<{ round: number; side: string; customers: number; intake: boolean; dir: string }>;
    figures: Figure[];
  };

  before(async () => {
    stateBefore = checkoutState();
    run = await bench(
      [
        '--baseline',
        'HEAD',
        '--rounds',
        '1',
        '--duration',
        '2',
        '--warmup',
        '1',
        '--customers',
        '2',
        '--watchers',
        '4',
        '--settle-ms',
        '500',
        '--progress-every',
        '1',
        '--no-intake',
        '--database-url',
        adminUrl(),
        '--out',
        out,
      ],
      cache,
    );
    if (existsSync(join(out, 'baseline.json'))) report = JSON.parse(readFileSync(join(out, 'baseline.json'), 'utf8'));
  });

  after(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  it('runs the baseline from its own checkout and the working tree, and prints the table with the caveat', () => {
    assert.equal(run.code, 0, run.output);
    assert.ok(report, `no baseline.json:\n${run.output}`);
    assert.equal(report.baseline.sha, head);
    assert.match(run.output, new RegExp(`\\[1/2 r1 baseline c=2\\] ${join(cache, head)}: bench/run\\.ts`));
    assert.match(run.output, new RegExp(`\\[2/2 r1 current c=2\\] ${ROOT}: bench/run\\.ts`));
    assert.match(run.output, /node_modules shared with the working tree/);
    assert.match(run.output, /== current vs baseline ==/);
    assert.match(run.output, /only the ratios within this run are claims/);
    assert.match(report.caveat, /only the ratios within this run are claims/);
    assert.deepEqual(
      report.runs.map((r) => [r.round, r.side, r.customers, r.intake]),
      [
        [1, 'baseline', 2, false],
        [1, 'current', 2, false],
      ],
    );
  });

  it("takes every figure from each side's own results file, and computes each ratio from the two sides", () => {
    assert.ok(report, run.output);
    const results = (side: string) =>
      JSON.parse(
        readFileSync(join(report.runs.find((r) => r.side === side)!.dir, 'latest.json'), 'utf8'),
      ) as BenchResults;
    const sides = { baseline: results('baseline'), current: results('current') };
    const expected: Record<string, (r: BenchResults) => number | null | undefined> = {
      'flow.c2.paidPerSecond': (r) => r.flow.paidPerSecond,
      'cpu.c2.total': (r) => r.cpu.perPaidOrderMs.total,
      'cpu.c2.system': (r) => ['shop', 'gateway', 'bank', 'postgres'].reduce((s, k) => s + r.cpu.perPaidOrderMs[k]!, 0),
      'push.c2.p99': (r) => r.push?.latency.p99Ms,
    };
    for (const p of ['shop', 'gateway', 'bank'] as const) {
      expected[`sql.alone.${p}`] = (r) => r.sql.singleOrder?.net[p].statements;
      expected[`sql.load.c2.${p}`] = (r) => r.sql.perPaidOrder?.[p].statements;
      expected[`memory.${p}.idle`] = (r) => r.memory[p].idleMb;
      expected[`memory.c2.${p}.peak`] = (r) => r.memory[p].peakMb;
    }
    for (const [key, read] of Object.entries(expected)) {
      const f = report.figures.find((x) => x.key === key);
      assert.ok(f, `figure ${key} is reported`);
      for (const side of ['baseline', 'current'] as const) {
        const value = read(sides[side]);
        assert.ok(typeof value === 'number' && value > 0, `${key} of the ${side}: ${value}`);
        assert.deepEqual(f[side].values, [value], `${key}: the ${side}'s own figure`);
        assert.equal(f[side].median, value, `${key}: the median of one round is its value`);
        assert.equal(f[side].spread, null, `${key}: one round has no spread`);
      }
      assert.equal(f.ratio, f.current.median! / f.baseline.median!, `${key}: current ÷ baseline`);
    }
    assert.deepEqual(
      report.figures.filter((f) => f.group === 'webhook intake'),
      [],
      '--no-intake: no intake figures',
    );
    for (const f of report.figures) {
      if (f.baseline.median === null || f.current.median === null || f.baseline.median === 0)
        assert.equal(f.ratio, null);
      else assert.equal(f.ratio, f.current.median / f.baseline.median, f.key);
    }
  });

  it('writes a markdown table and a chart of every figure, and leaves the checkout, its index and its worktrees as they were', () => {
    assert.ok(report, run.output);
    const md = readFileSync(join(out, 'baseline.md'), 'utf8');
    assert.match(md, /^\| \| figure \| baseline \| current \| current ÷ baseline \| better \| rounds ± \|$/m);
    const rows = md.split('\n').filter((l) => /^\| .* \| \*\*[\d.]+x\*\* \|/.test(l) || /\| \*\*-\*\* \|/.test(l));
    assert.equal(rows.length, report.figures.length, md);
    assert.match(md, /\| paid orders\/s, 2 customers \| [\d.]+ \| [\d.]+ \| \*\*[\d.]+x\*\* \| higher \| - \|/);
    // The chart: a bar and a ratio label per figure that has a ratio, green when better, red when worse.
    const svg = readFileSync(join(out, 'baseline.svg'), 'utf8');
    const withRatio = report.figures.filter((f) => f.ratio !== null);
    assert.equal(svg.match(/<rect [^>]*class="(up|down)"/g)?.length, withRatio.length, svg);
    for (const f of withRatio) {
      assert.ok(svg.includes(`>${f.label}</text>`), f.label);
      assert.ok(svg.includes(`>${f.ratio!.toFixed(2)}x</text>`), f.key);
    }
    const better = withRatio.filter((f) => (f.better === 'higher' ? f.ratio! >= 1 : f.ratio! <= 1)).length;
    assert.equal(svg.match(/class="up"/g)?.length ?? 0, better);
    assert.equal(checkoutState(), stateBefore);
    assert.deepEqual(
      readdirSync(cache).filter((f) => f !== 'node_modules'),
      [],
      'the checkout and its lock are gone',
    );
  });
});
