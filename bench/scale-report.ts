// `--scale`: the results as one markdown table, a column per size and the ratio of the largest size
// to the smallest (for a figure that should stay flat, a ratio near 1 is the claim).
import type { ScaleResults } from './scale.ts';
import { PARTIES } from './system.ts';

const fmt = (x: number | undefined | null, d = 1) =>
  x === undefined || x === null || !Number.isFinite(x) ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: d });
const label = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

export function formatScale(r: ScaleResults): string {
  const sizes = r.sizes;
  const rows: Array<{ name: string; values: Array<number | undefined | null>; text?: string[]; d?: number }> = [];
  const add = (name: string, values: Array<number | undefined | null>, d = 1) => rows.push({ name, values, d });
  add(
    'paid orders',
    sizes.map((s) => s.paidOrders),
    0,
  );
  add(
    'seeding (s, this step)',
    sizes.map((s) => s.seeding.seconds),
  );
  for (const l of sizes[0]?.pages.map((p) => p.label) ?? []) {
    add(
      `${l} p50 ms`,
      sizes.map((s) => s.pages.find((p) => p.label === l)?.p50Ms),
    );
    add(
      `${l} p99 ms`,
      sizes.map((s) => s.pages.find((p) => p.label === l)?.p99Ms),
    );
  }
  if (sizes.some((s) => s.intake)) {
    add(
      `intake deliveries/s (size 0: ${fmt(r.baselineIntake?.perSecond)})`,
      sizes.map((s) => s.intake?.perSecond),
    );
    add(
      'intake ÷ size 0',
      sizes.map((s) => (s.intake && r.baselineIntake ? s.intake.perSecond / r.baselineIntake.perSecond : undefined)),
      2,
    );
  }
  const rec = (k: string) => sizes.map((s) => s.reconcile[k] as number | undefined);
  add('reconcile: attempts set pending (1%)', rec('pendingSet'), 0);
  add('reconcile: `countersign reconcile` s', rec('seconds'), 2);
  add('reconcile: attempts compared', rec('compared'), 0);
  add('reconcile: stale attempts polled', rec('polled'), 0);
  add('reconcile: shop statements', rec('shopStatements'), 0);
  add('reconcile: gateway statements', rec('gatewayStatements'), 0);
  add(
    'audit verify: entries',
    sizes.map((s) => s.audit.entries),
    0,
  );
  add(
    'audit verify: wall s',
    sizes.map((s) => s.audit.seconds),
    2,
  );
  add(
    'audit verify: command start s',
    sizes.map((s) => s.audit.startupSeconds),
    2,
  );
  add(
    'audit verify: entries/s (net of the start)',
    sizes.map((s) => s.audit.perSecond),
    0,
  );
  add(
    'audit verify: peak RSS MB',
    sizes.map((s) => s.audit.peakRssMb),
  );
  add(
    'ledger verify s',
    sizes.map((s) => s.ledger.seconds),
    2,
  );
  add(
    'event feed: events read',
    sizes.map((s) => s.feed.events),
    0,
  );
  add(
    'event feed: events/s',
    sizes.map((s) => s.feed.perSecond),
    0,
  );
  for (const p of PARTIES) {
    add(
      `${p}: bytes on disk per added order`,
      sizes.map((s) => s.disk.bytesPerAddedOrder[p]),
      0,
    );
    add(
      `${p}: database MB`,
      sizes.map((s) => s.disk.bytes[p] / 1048576),
    );
  }
  const head = ['figure', ...sizes.map((s) => label(s.size))];
  const ratio = sizes.length > 1;
  if (ratio) head.push(`${label(sizes.at(-1)!.size)} ÷ ${label(sizes[0]!.size)}`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows) {
    const cells = row.values.map((v) => fmt(v, row.d));
    if (ratio) {
      const a = row.values[0];
      const b = row.values.at(-1);
      cells.push(a && b ? `${fmt(b / a, 2)}×` : '–');
    }
    lines.push(`| ${row.name} | ${cells.join(' | ')} |`);
  }
  const top = sizes.at(-1)?.disk.topTables;
  if (top)
    lines.push(
      '',
      `Largest tables at ${label(sizes.at(-1)!.size)}: ${PARTIES.map((p) => `${p}: ${top[p].map((t) => `${t.table} ${fmt(t.bytes / 1048576)} MB`).join(', ')}`).join('; ')}.`,
    );
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * One SVG: each page's p99 across the sizes (log–log: a flat line is a cost that does not grow with the
 * data; a line rising with slope 1 grows in proportion to it).
 */
export function renderScaleChart(r: ScaleResults): string {
  const W = 960;
  const H = 520;
  const box = { x: 70, y: 50, w: 520, h: 420 };
  const sizes = r.sizes.map((s) => s.size);
  const labels = r.sizes[0]?.pages.map((p) => p.label) ?? [];
  const all = r.sizes.flatMap((s) => s.pages.map((p) => p.p99Ms)).filter((v) => v > 0);
  const lo = Math.log10(Math.max(0.1, Math.min(...all, 1)));
  const hi = Math.log10(Math.max(...all, 10)) + 0.1;
  const px = (i: number) => box.x + (sizes.length > 1 ? (i / (sizes.length - 1)) * box.w : box.w / 2);
  const py = (ms: number) => box.y + box.h - ((Math.log10(Math.max(ms, 0.1)) - lo) / (hi - lo)) * box.h;
  const parts: string[] = [];
  parts.push(`<text x="${box.x}" y="30" class="h">p99 per page (ms, log scale) as the paid orders grow</text>`);
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    const y = py(10 ** e).toFixed(1);
    parts.push(`<line x1="${box.x}" x2="${box.x + box.w}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${box.x - 8}" y="${y}" text-anchor="end">${10 ** e}</text>`);
  }
  sizes.forEach((s, i) =>
    parts.push(
      `<text x="${px(i).toFixed(1)}" y="${box.y + box.h + 20}" text-anchor="middle">${s.toLocaleString('en-US')}</text>`,
    ),
  );
  const palette = [
    '#1f77b4',
    '#ff7f0e',
    '#2ca02c',
    '#d62728',
    '#9467bd',
    '#8c564b',
    '#e377c2',
    '#7f7f7f',
    '#bcbd22',
    '#17becf',
  ];
  labels.forEach((l, k) => {
    const color = palette[k % palette.length]!;
    const dash = k >= palette.length ? ' stroke-dasharray="4 3"' : '';
    const pts = r.sizes
      .map((s, i) => {
        const v = s.pages.find((p) => p.label === l)?.p99Ms;
        return v === undefined ? '' : `${px(i).toFixed(1)},${py(v).toFixed(1)}`;
      })
      .filter(Boolean)
      .join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    const y = box.y + 6 + k * 19;
    parts.push(
      `<line x1="${box.x + box.w + 30}" x2="${box.x + box.w + 52}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${box.x + box.w + 58}" y="${y + 4}">${esc(l)}</text>`);
  });
  parts.push(`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" class="frame"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Math.max(H, box.y + 30 + labels.length * 19)}" font-family="sans-serif" font-size="12">
<style>.h{font-size:15px;font-weight:bold}.grid{stroke:#ddd}.frame{fill:none;stroke:#333}</style>
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
}
