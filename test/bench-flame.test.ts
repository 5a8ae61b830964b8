// The bench's flame graphs (bench/flame.ts): a real V8 profile of a process that spends its time in
// one known function is drawn with that function as the widest frame, and the merged call tree keeps
// every sample exactly once. The smoke run (bench-smoke) checks the same from the three services.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  flameGraphs,
  flameTree,
  hottest,
  readProfile,
  renderFlame,
  timeByKind,
  type CpuProfile,
  type Frame,
} from '../bench/flame.ts';
import { parseBenchArgs } from '../bench/run.ts';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: 0 },
  children,
});

/** The elements left open at the end (or closed out of order), by a stack over the tags: a cheap well-formedness check. */
function unclosed(xml: string): string[] {
  const open: string[] = [];
  for (const [, close, name, selfClosing] of xml.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (!close) open.push(name!);
    else if (open.pop() !== name) return [`</${name}> out of order`];
  }
  return open;
}

describe('flame graphs of CPU profiles (bench/flame.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-flame-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('merges calls of one function from one caller, leaves idle time out and keeps every busy sample once', () => {
    // root → handler (twice, as V8 records two call sites) → query; and idle samples.
    const profile: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 3, 6]),
        frame(2, 'handler', 'file:///app/src/shop/routes/pay.ts', [4]),
        frame(3, 'handler', 'file:///app/src/shop/routes/pay.ts', [5]),
        frame(4, 'build', 'file:///app/node_modules/drizzle-orm/sql.js'),
        frame(5, 'build', 'file:///app/node_modules/drizzle-orm/sql.js'),
        frame(6, '(idle)', ''),
      ],
      samples: [2, 4, 5, 5, 6, 6, 6, 3],
      timeDeltas: [100, 200, 300, 400, 1000, 1000, 1000, 50],
    };
    const tree = flameTree(profile);
    assert.equal(tree.total, 100 + 200 + 300 + 400 + 50, 'busy time is every sample but the idle ones');
    assert.equal(tree.children.length, 1, 'one handler frame after the merge');
    const handler = tree.children[0]!;
    assert.deepEqual([handler.name, handler.kind, handler.self, handler.total], ['handler', 'ours', 150, 1050]);
    assert.deepEqual(
      handler.children.map((c) => [c.name, c.kind, c.self, c.where]),
      [['build', 'database', 900, 'drizzle-orm/sql.js:1']],
    );
    const kinds = timeByKind(tree);
    assert.equal(kinds.ours, 150);
    assert.equal(kinds.database, 900);
    assert.equal(
      Object.values(kinds).reduce((a, b) => a + b, 0),
      tree.total,
    );
    assert.deepEqual(
      hottest(tree, 2).map((h) => [h.name, h.self]),
      [
        ['build', 900],
        ['handler', 150],
      ],
    );
  });

  it('draws a real profile with the function that used the CPU as its widest frame', () => {
    // A program in a src/ folder that spins in one named function for 400 ms, under node --cpu-prof.
    mkdirSync(join(dir, 'src'));
    const script = join(dir, 'src', 'spin.mjs');
    writeFileSync(
      script,
      [
        'function spinInOurCode(ms) {',
        '  const end = Date.now() + ms;',
        '  let x = 0;',
        '  while (Date.now() < end) x += Math.sqrt(x + 1);',
        '  return x;',
        '}',
        'setTimeout(() => console.log(spinInOurCode(1500)), 2000);',
        '',
      ].join('\n'),
    );
    const profiles = join(dir, 'profiles', 'spinner');
    const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, script], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const tree = flameTree(readProfile(profiles));
    const spin = hottest(tree, 1)[0]!;
    assert.equal(spin.name, 'spinInOurCode');
    assert.equal(spin.kind, 'ours');
    assert.ok(spin.self > 0.6 * tree.total, `spinInOurCode has ${spin.self} of ${tree.total} µs busy`);
    // 1.5 s of spinning against the process's own start: the share holds on a slow machine too. The
    // 2 s of waiting before it would add 2 s if it were counted as busy.
    assert.ok(tree.total - spin.self < 1_500_000, 'the 2 s of waiting before it is idle, not busy');

    const [summary] = flameGraphs(join(dir, 'profiles'), ['spinner', 'absent'], dir);
    assert.equal(summary?.party, 'spinner', 'a party without a profile is skipped, the others drawn');
    const svg = readFileSync(join(dir, 'flame-spinner.svg'), 'utf8');
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const bar = new RegExp(
      String.raw`<title>spinInOurCode src/spin\.mjs:1\n[^<]*</title><rect x="[\d.]+" y="\d+" width="([\d.]+)"`,
    ).exec(svg);
    assert.ok(bar, 'the function has its bar, named with its file and line');
    assert.ok(Number(bar[1]) > 0.6 * 1200, `its bar is ${bar[1]} of 1200 px wide`);
    assert.deepEqual(unclosed(svg), [], 'every element opened is closed, in order');
  });

  it('leaves out frames too narrow to see, and escapes names', () => {
    const leaf = (name: string, self: number): Frame => ({
      name,
      where: '',
      kind: 'ours',
      self,
      total: self,
      children: [],
    });
    const tree: Frame = {
      name: '(root)',
      where: '',
      kind: 'other',
      self: 0,
      total: 100_001,
      children: [leaf('<wide & "quoted">', 100_000), leaf('tiny', 1)],
    };
    const svg = renderFlame(tree, 'party');
    assert.match(svg, /&lt;wide &amp; &quot;quoted&quot;&gt;/);
    assert.doesNotMatch(svg, />tiny</);
    assert.doesNotMatch(svg, /<wide/);
  });

  it('refuses --cpu-prof with --baseline: the profiler would be part of what is compared', () => {
    assert.throws(() => parseBenchArgs(['--cpu-prof', '--baseline', 'HEAD']), /--cpu-prof profiles one plain run/);
    assert.equal(parseBenchArgs(['--cpu-prof']).cpuProf, true);
    assert.equal(parseBenchArgs([]).cpuProf, false);
  });
});
