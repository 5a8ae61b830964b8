// The chart of a `--baseline` comparison, as hand-written SVG like bench/chart.ts (no chart library):
// one panel per scenario (throughput, CPU per paid order, statements, memory, push, intake), a bar per
// figure for current ÷ baseline on a log scale from 0.25x to 4x, green where the change is for the
// better and red where it is for the worse, with a whisker for the rounds' spread (a ratio inside its
// whisker is noise).
import type { Figure } from './compare.ts';

const W = 960;
const LABEL_W = 330;
const ROW = 18;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r1 = (x: number) => Math.round(x * 10) / 10;

const MIN = 0.25;
const MAX = 4;

/** The SVG of `figures` (compareRuns' output), titled `title`. */
export function renderComparisonChart(figures: readonly Figure[], title: string): string {
  const plot = { x: LABEL_W + 20, w: W - LABEL_W - 90 };
  const px = (ratio: number) => {
    const clamped = Math.min(MAX, Math.max(MIN, ratio));
    return plot.x + ((Math.log2(clamped) - Math.log2(MIN)) / (Math.log2(MAX) - Math.log2(MIN))) * plot.w;
  };
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, attrs = '') =>
    parts.push(`<text x="${r1(x)}" y="${r1(y)}" ${attrs}>${esc(s)}</text>`);
  text(20, 26, title, 'class="t"');
  text(
    20,
    44,
    'current ÷ baseline, log scale; green: better, red: worse; whisker: the rounds\u2019 spread',
    'class="s"',
  );
  let y = 70;
  const groups = [...new Set(figures.map((f) => f.group))];
  for (const group of groups) {
    const rows = figures.filter((f) => f.group === group && f.ratio !== null);
    if (rows.length === 0) continue;
    text(20, y + 12, group, 'class="h"');
    y += 20;
    const top = y;
    for (const f of rows) {
      const ratio = f.ratio!;
      const better = f.better === 'higher' ? ratio >= 1 : ratio <= 1;
      const x0 = px(1);
      const x1 = px(ratio);
      text(LABEL_W, y + 13, f.label, 'text-anchor="end"');
      parts.push(
        `<rect x="${r1(Math.min(x0, x1))}" y="${y + 3}" width="${r1(Math.max(1, Math.abs(x1 - x0)))}" height="${ROW - 6}" class="${better ? 'up' : 'down'}"/>`,
      );
      const spread = Math.max(f.baseline.spread ?? 0, f.current.spread ?? 0);
      if (spread > 0) {
        const lo = px(ratio * (1 - Math.min(spread, 0.9)));
        const hi = px(ratio * (1 + spread));
        const mid = y + ROW / 2;
        parts.push(`<line x1="${r1(lo)}" x2="${r1(hi)}" y1="${mid}" y2="${mid}" class="whisker"/>`);
      }
      text(px(MAX) + 8, y + 13, `${ratio.toFixed(2)}x`);
      y += ROW;
    }
    for (const tick of [0.25, 0.5, 1, 2, 4]) {
      parts.push(
        `<line x1="${r1(px(tick))}" x2="${r1(px(tick))}" y1="${top}" y2="${y}" class="${tick === 1 ? 'one' : 'grid'}"/>`,
      );
      text(px(tick), y + 12, `${tick}x`, 'text-anchor="middle" class="s"');
    }
    y += 26;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" font-family="sans-serif" font-size="12">
<style>.t{font-size:16px;font-weight:bold}.h{font-weight:bold}.s{fill:#555;font-size:11px}.grid{stroke:#ddd}.one{stroke:#333}.up{fill:#3a9a4a}.down{fill:#c8453c}.whisker{stroke:#222;stroke-width:1}</style>
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
}
