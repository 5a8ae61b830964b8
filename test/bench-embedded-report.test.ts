// `npm run bench -- --embedded --baseline <ref>`: the figures its chart draws, from hand-made rounds
// (the smoke in bench-embedded.test.ts runs the real thing, without a baseline).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderComparisonChart } from '../bench/compare-chart.ts';
import type { ProcessMemory } from '../bench/embedded-memory.ts';
import { embeddedFigures, type EmbeddedReport, type TreeFigures } from '../bench/embedded-report.ts';

const ROLES = ['shop', 'gateway', 'bank', 'launcher', 'mail-catcher'];

/** One tree's round: every process at `mb` RSS (the shop at `shopMb`), ready in `readyS`. */
function tree(mb: number, shopMb: number, readyS: number, paidOrders: number): TreeFigures {
  const memory = (extra: number): ProcessMemory[] =>
    ROLES.map((role, i) => ({ role, pid: 100 + i, rssMb: (role === 'shop' ? shopMb : mb) + extra, pssMb: mb / 2 }));
  return {
    starts: [
      { kind: 'first', readyS: readyS * 2, wallS: readyS * 2 + 1, idle: memory(0) },
      { kind: 'warm', readyS, wallS: readyS + 1, idle: memory(0) },
      { kind: 'warm', readyS: readyS - 0.5, wallS: readyS, idle: memory(0) },
    ],
    peak: memory(10),
    peakTotal: { rssMb: 5 * mb + 60, pssMb: 0 },
    after: memory(5),
    load: { paidOrders, errors: 0, errorSamples: [] },
  };
}

const report = (baseline: boolean): EmbeddedReport => ({
  at: '2026-12-06T00:00:00.000Z',
  options: {
    customers: 4,
    loadS: 30,
    idleS: 15,
    rounds: 2,
    out: '/tmp/unused',
    ...(baseline ? { baseline: 'b' } : {}),
  },
  ...(baseline ? { baseline: { ref: 'b', sha: 'f'.repeat(40), subject: 'the baseline' } } : {}),
  rounds: [
    { current: tree(100, 150, 2, 90), ...(baseline ? { baseline: tree(200, 200, 3, 100) } : {}) },
    { current: tree(100, 170, 2, 110), ...(baseline ? { baseline: tree(200, 220, 3, 100) } : {}) },
  ],
});

describe('the embedded comparison as figures for its chart', () => {
  const figures = embeddedFigures(report(true));
  const byKey = (key: string) => figures.find((f) => f.key === key)!;

  it('takes each round’s worst figure per tree, the median over rounds, and current ÷ baseline', () => {
    // The shop's worst idle is after the load (+5): 155 and 175 against 205 and 225.
    const shop = byKey('idle.shop');
    assert.deepEqual(shop.current.values, [155, 175]);
    assert.deepEqual(shop.baseline.values, [205, 225]);
    assert.equal(shop.ratio, 165 / 215);
    assert.equal(shop.better, 'lower');
    assert.equal(byKey('peak.bank').ratio, 110 / 210);
    assert.equal(byKey('ready.first').ratio, 4 / 6);
    assert.equal(byKey('ready.warm').ratio, 2 / 3);
    // All five processes of one idle measurement summed, the highest of them.
    assert.equal(byKey('idle.total').current.median, 4 * 105 + 165);
    const paid = byKey('paid');
    assert.equal(paid.better, 'higher');
    assert.equal(paid.ratio, 1);
  });

  it('covers every process idle and at peak, and the chart draws one panel per kind with every ratio', () => {
    for (const kind of ['idle', 'peak'])
      for (const role of [...ROLES, 'total']) assert.ok(byKey(`${kind}.${role}`), `${kind}.${role}`);
    const svg = renderComparisonChart(figures, 'npm start on PGlite');
    for (const panel of ['ready', 'resident memory, idle', 'resident memory, peak', 'under load'])
      assert.match(svg, new RegExp(`>${panel}<`));
    assert.match(svg, new RegExp(`>${(165 / 215).toFixed(2)}x<`));
  });

  it('has no figures without a baseline', () => {
    assert.deepEqual(embeddedFigures(report(false)), []);
  });
});
