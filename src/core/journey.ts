/**
 * A payment's journey: the messages between the browser, the shop, the gateway, the bank and the bank
 * app, each step taken from one party's own records, and their drawing as an SVG sequence diagram.
 * Pure: no I/O, no clock. The SVG is written by hand (a few dozen elements of one fixed layout; a
 * diagram library would bring a browser-side renderer or a DSL parser for what is a loop over rows),
 * and every piece of text in it is escaped here, because labels carry data other people chose
 * (a product name, a URL, a reason a gateway sent).
 */

export const JOURNEY_LANES = ['browser', 'shop', 'gateway', 'bank', 'bank_app'] as const;
export type JourneyLane = (typeof JOURNEY_LANES)[number];

export const JOURNEY_VERDICTS = ['ok', 'refused', 'retry', 'error'] as const;
export type JourneyVerdict = (typeof JOURNEY_VERDICTS)[number];

/** One message (from ≠ to) or one note on a lane (from = to), as one party recorded it. */
export interface JourneyStep {
  /** When the recording party's clock says it happened (ISO 8601). */
  readonly at: string;
  readonly from: JourneyLane;
  readonly to: JourneyLane;
  readonly label: string;
  readonly verdict?: JourneyVerdict | undefined;
  /** Whose record this step comes from (its clock). */
  readonly party: 'shop' | 'gateway' | 'bank';
  /** The record's id (an attempt, an event, a delivery, an authorisation), shown on hover. */
  readonly ref?: string | undefined;
}

const LANE_TITLES: Record<JourneyLane, string> = {
  browser: 'Browser',
  shop: 'Shop',
  gateway: 'Gateway',
  bank: 'Bank',
  bank_app: 'Bank app',
};

const COLOURS: Record<JourneyVerdict | 'none', string> = {
  ok: '#1f7a3a',
  refused: '#b3261e',
  retry: '#a35c00',
  error: '#7a1fa2',
  none: '#3a3a40',
};

// Shown beside the label, so that the verdict does not rest on colour alone.
const MARKS: Record<JourneyVerdict, string> = { ok: '✓', refused: '✗ refused', retry: '↻ retry', error: '⚠ error' };

const TIME_W = 96;
const LANE_W = 164;
const RECORD_W = 84;
const HEAD_H = 52;
const ROW_H = 34;
const MAX_LABEL = 56;

/** Text made safe for SVG/XML text content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** True when `value` is one of the lanes (a step read from another party's JSON is checked with it). */
export function isJourneyLane(value: unknown): value is JourneyLane {
  return typeof value === 'string' && (JOURNEY_LANES as readonly string[]).includes(value);
}

/** The step when `raw` is a well-formed one (another party's answer is not trusted to be); else undefined. */
export function parseJourneyStep(raw: unknown): JourneyStep | undefined {
  const r = raw as Record<string, unknown> | null;
  if (!r || typeof r !== 'object') return undefined;
  if (!isJourneyLane(r.from) || !isJourneyLane(r.to) || typeof r.label !== 'string' || typeof r.at !== 'string')
    return undefined;
  if (Number.isNaN(Date.parse(r.at))) return undefined;
  if (r.party !== 'shop' && r.party !== 'gateway' && r.party !== 'bank') return undefined;
  const verdict = (JOURNEY_VERDICTS as readonly unknown[]).includes(r.verdict)
    ? (r.verdict as JourneyVerdict)
    : undefined;
  return {
    at: new Date(r.at).toISOString(),
    from: r.from,
    to: r.to,
    label: r.label.slice(0, 300),
    party: r.party,
    ...(verdict ? { verdict } : {}),
    ...(typeof r.ref === 'string' ? { ref: r.ref.slice(0, 100) } : {}),
  };
}

/** The steps in time order; steps at the same instant keep the order they were given in. */
export function orderJourney(steps: readonly JourneyStep[]): JourneyStep[] {
  return steps
    .map((step, i) => ({ step, i, t: Date.parse(step.at) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.step);
}

const laneX = (lane: JourneyLane) => TIME_W + JOURNEY_LANES.indexOf(lane) * LANE_W + LANE_W / 2;

function shorten(label: string): string {
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;
}

function elapsed(ms: number): string {
  if (ms < 1000) return `+${ms} ms`;
  if (ms < 120_000) return `+${(ms / 1000).toFixed(2)} s`;
  return `+${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** One step's group: the time, the arrow (or note), the label with its verdict mark, whose record. */
function stepSvg(step: JourneyStep, y: number, startMs: number): string {
  const colour = COLOURS[step.verdict ?? 'none'];
  const text = escapeXml(shorten(step.label) + (step.verdict ? `  ${MARKS[step.verdict]}` : ''));
  const t = Date.parse(step.at);
  const clock = new Date(t).toISOString().slice(11, 23);
  const hover = escapeXml(`${step.label}${step.ref ? ` (${step.ref})` : ''} · ${step.party}'s record · ${step.at}`);
  const parts = [
    `<g class="step" data-from="${escapeXml(step.from)}" data-to="${escapeXml(step.to)}" data-party="${escapeXml(step.party)}" data-verdict="${escapeXml(step.verdict ?? 'none')}">`,
    `<title>${hover}</title>`,
    `<text x="6" y="${y + 4}" font-size="11" fill="#555">${escapeXml(elapsed(t - startMs))}</text>`,
    `<text x="6" y="${y + 17}" font-size="10" fill="#888">${clock}</text>`,
  ];
  const x1 = laneX(step.from);
  const x2 = laneX(step.to);
  if (x1 === x2) {
    parts.push(
      `<rect x="${x1 - 8}" y="${y - 8}" width="16" height="16" rx="3" fill="#fff" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${x1 + 14}" y="${y + 4}" font-size="11" fill="${colour}">${text}</text>`,
    );
  } else {
    const dir = x2 > x1 ? 1 : -1;
    const mid = (x1 + x2) / 2;
    parts.push(
      `<line x1="${x1}" y1="${y + 6}" x2="${x2 - dir * 9}" y2="${y + 6}" stroke="${colour}" stroke-width="2"${step.verdict === 'retry' || step.verdict === 'error' ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<path d="M${x2} ${y + 6} l${-dir * 10} -5 v10 z" fill="${colour}"/>`,
      `<text x="${mid}" y="${y}" font-size="11" text-anchor="middle" fill="${colour}">${text}</text>`,
    );
  }
  const recordX = TIME_W + JOURNEY_LANES.length * LANE_W + 8;
  parts.push(`<text x="${recordX}" y="${y + 4}" font-size="11" fill="#666">${escapeXml(step.party)}</text>`);
  parts.push('</g>');
  return parts.join('');
}

/**
 * The journey as an SVG sequence diagram: one column per lane with its header, one row per step in
 * time order with its time since the first step, its arrow coloured by verdict, and whose record it is.
 */
export function renderJourneySvg(steps: readonly JourneyStep[], options: { title?: string } = {}): string {
  const ordered = orderJourney(steps);
  const width = TIME_W + JOURNEY_LANES.length * LANE_W + RECORD_W;
  const height = HEAD_H + Math.max(1, ordered.length) * ROW_H + 16;
  const startMs = ordered.length ? Date.parse(ordered[0]!.at) : 0;
  const title = escapeXml(options.title ?? 'Payment journey');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="journey" role="img" aria-label="${title}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<title>${title}</title>`,
    '<desc>Each lane keeps its own clock: times come from the party whose record a step is.</desc>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="6" y="30" font-size="11" font-weight="bold" fill="#333">time</text>`,
  ];
  for (const lane of JOURNEY_LANES) {
    const x = laneX(lane);
    out.push(
      `<rect x="${x - 62}" y="12" width="124" height="28" rx="5" fill="#eef1f7" stroke="#8a94a8"/>`,
      `<text x="${x}" y="31" font-size="13" font-weight="bold" text-anchor="middle" fill="#1b1b1f">${LANE_TITLES[lane]}</text>`,
      `<line x1="${x}" y1="40" x2="${x}" y2="${height - 6}" stroke="#b8bfcc" stroke-dasharray="4 4"/>`,
    );
  }
  out.push(
    `<text x="${TIME_W + JOURNEY_LANES.length * LANE_W + 8}" y="30" font-size="11" font-weight="bold" fill="#333">record of</text>`,
  );
  if (ordered.length === 0)
    out.push(
      `<text x="${width / 2}" y="${HEAD_H + 20}" font-size="12" text-anchor="middle">No steps recorded yet.</text>`,
    );
  ordered.forEach((step, i) => {
    out.push(stepSvg(step, HEAD_H + 18 + i * ROW_H, startMs));
  });
  out.push('</svg>');
  return out.join('\n');
}
