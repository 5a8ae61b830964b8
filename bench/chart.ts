// The run's chart as hand-written SVG (no chart library): paid orders per second over the measured
// window, and p50/p90/p99 latency per step of the flow (plus push latency) on a log scale.
import type { BenchResults } from './report.ts';

const W = 960;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : 0);

/** A "nice" upper bound for an axis. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function renderChart(r: BenchResults): string {
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, attrs = '') =>
    parts.push(`<text x="${num(x)}" y="${num(y)}" ${attrs}>${esc(s)}</text>`);

  // ---- panel 1: throughput over time ----
  const p1 = { x: 70, y: 92, w: W - 110, h: 220 };
  const series = r.flow.throughput;
  const yMax = niceMax(Math.max(1, ...series.map((s) => s.paid)));
  const xMax = Math.max(1, series.length);
  const px = (t: number) => p1.x + (t / xMax) * p1.w;
  const py = (v: number) => p1.y + p1.h - (v / yMax) * p1.h;
  text(
    p1.x,
    p1.y - 12,
    `Paid orders per second (measured window; mean ${r.flow.paidPerSecond.toFixed(2)}/s, target 100/s)`,
    'class="h"',
  );
  const divisions = String(yMax).startsWith('2') && !String(yMax).startsWith('25') ? 4 : 5;
  for (let i = 0; i <= divisions; i++) {
    const v = (yMax / divisions) * i;
    parts.push(`<line x1="${p1.x}" x2="${p1.x + p1.w}" y1="${num(py(v))}" y2="${num(py(v))}" class="grid"/>`);
    text(p1.x - 8, py(v) + 4, String(num(v)), 'text-anchor="end"');
  }
  for (let t = 0; t <= xMax; t += Math.max(1, Math.ceil(xMax / 12)))
    text(px(t), p1.y + p1.h + 16, `${t}s`, 'text-anchor="middle"');
  if (series.length) {
    const pts = series.map((s) => `${num(px(s.t - 0.5))},${num(py(s.paid))}`);
    parts.push(
      `<polygon class="area" points="${num(px(series[0]!.t - 0.5))},${num(py(0))} ${pts.join(' ')} ${num(px(series.at(-1)!.t - 0.5))},${num(py(0))}"/>`,
    );
    parts.push(`<polyline class="line" points="${pts.join(' ')}"/>`);
    const mean = r.flow.paidPerSecond;
    parts.push(`<line x1="${p1.x}" x2="${p1.x + p1.w}" y1="${num(py(mean))}" y2="${num(py(mean))}" class="mean"/>`);
  }
  parts.push(`<rect x="${p1.x}" y="${p1.y}" width="${p1.w}" height="${p1.h}" class="frame"/>`);

  // ---- panel 2: latency percentiles per step (log scale) ----
  const rows = r.flow.steps.map((s) => ({ label: s.step, p50: s.p50Ms, p90: s.p90Ms, p99: s.p99Ms }));
  if (r.push && r.push.messages > 0)
    rows.push({
      label: 'push (commit→ws)',
      p50: r.push.latency.p50Ms,
      p90: r.push.latency.p90Ms,
      p99: r.push.latency.p99Ms,
    });
  const rowH = 26;
  const p2 = { x: 170, y: p1.y + p1.h + 80, w: W - 210, h: Math.max(1, rows.length) * rowH };
  const values = rows.flatMap((row) => [row.p50, row.p90, row.p99]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(1, ...values))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(10, ...values)));
  const lx = (v: number) =>
    p2.x + ((Math.log10(Math.max(lo, v)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * p2.w;
  text(70, p2.y - 24, 'Latency per step, ms (log scale): p50 / p90 / p99', 'class="h"');
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(`<line x1="${num(lx(d))}" x2="${num(lx(d))}" y1="${p2.y}" y2="${p2.y + p2.h}" class="grid"/>`);
    text(lx(d), p2.y + p2.h + 16, d >= 1 ? String(d) : d.toFixed(1), 'text-anchor="middle"');
  }
  rows.forEach((row, i) => {
    const y = p2.y + i * rowH;
    text(p2.x - 8, y + rowH / 2 + 4, row.label, 'text-anchor="end"');
    const bars: Array<[string, number, number]> = [
      ['p99', row.p99, 4],
      ['p90', row.p90, 8],
      ['p50', row.p50, 12],
    ];
    for (const [cls, v, inset] of bars) {
      if (!Number.isFinite(v)) continue;
      parts.push(
        `<rect class="${cls}" x="${p2.x}" y="${num(y + inset / 2 + 2)}" width="${num(Math.max(1, lx(v) - p2.x))}" height="${num(rowH - inset - 4)}"><title>${esc(`${row.label} ${cls} ${v} ms`)}</title></rect>`,
      );
    }
    text(
      Math.min(lx(row.p99) + 6, W - 150),
      y + rowH / 2 + 4,
      `${num(row.p50)} / ${num(row.p90)} / ${num(row.p99)}`,
      'class="small"',
    );
  });
  parts.push(`<rect x="${p2.x}" y="${p2.y}" width="${p2.w}" height="${p2.h}" class="frame"/>`);
  const legendY = p2.y + p2.h + 40;
  [
    ['p50', 'p50'],
    ['p90', 'p90'],
    ['p99', 'p99'],
  ].forEach(([cls, label], i) => {
    parts.push(`<rect class="${cls}" x="${p2.x + i * 90}" y="${legendY - 10}" width="14" height="12"/>`);
    text(p2.x + i * 90 + 20, legendY, label!);
  });
  const H = legendY + 20;

  const subtitle = `${r.finishedAt} · ${r.flow.customers} customers · ${r.flow.paidOrders} paid orders in ${r.flow.durationS} s · ${r.machine.cpus} CPUs · Node ${r.machine.node}`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<style>.h{font-size:14px;font-weight:600}.small{font-size:11px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}.grid{stroke:#ddd;stroke-width:1}.frame{fill:none;stroke:#888}` +
      `.line{fill:none;stroke:#1a56db;stroke-width:2}.area{fill:#1a56db;fill-opacity:.15}.mean{stroke:#c2410c;stroke-dasharray:6 4}` +
      `.p50{fill:#1a56db}.p90{fill:#60a5fa}.p99{fill:#bfdbfe}</style>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="70" y="28" font-size="18" font-weight="600">countersign — npm run bench</text>`,
    `<text x="70" y="46" class="small">${esc(subtitle)}</text>`,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}
