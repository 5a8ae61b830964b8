import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, orderJourney, parseJourneyStep, renderJourneySvg, type JourneyStep } from './journey.ts';

const step = (
  at: string,
  from: JourneyStep['from'],
  to: JourneyStep['to'],
  label: string,
  more: Partial<JourneyStep> = {},
) => ({ at, from, to, label, party: 'shop', ...more }) as JourneyStep;

/** The label texts of the drawn steps, in the order drawn. */
function drawnLabels(svg: string): string[] {
  return [...svg.matchAll(/<g class="step"[^>]*>(.*?)<\/g>/gs)].map((m) => {
    const texts = [...m[1]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]!);
    return texts[2]!;
  });
}

describe('the journey diagram', () => {
  it('escapes every character that could open markup, in text and in attributes', () => {
    assert.equal(
      escapeXml(`<script>"a" & 'b'</script>`),
      '&#60;script&#62;&#34;a&#34; &#38; &#39;b&#39;&#60;/script&#62;',
    );
    const hostile = '<script>alert(1)</script>"/><foreignObject onload="x">';
    const svg = renderJourneySvg(
      [step('2026-01-01T00:00:00.000Z', 'gateway', 'shop', hostile, { ref: '"><img src=x>' })],
      {
        title: '</title><script>t</script>',
      },
    );
    assert.doesNotMatch(svg, /<script|<foreignObject|<img|onload="/);
    assert.ok(svg.includes('&#60;script&#62;alert(1)&#60;/script&#62;&#34;/&#62;'), 'the label is drawn as text');
    // Every element the renderer writes is one of its own few kinds.
    const tags = new Set([...svg.matchAll(/<([a-zA-Z]+)/g)].map((m) => m[1]));
    assert.deepEqual([...tags].sort(), ['desc', 'g', 'line', 'path', 'rect', 'svg', 'text', 'title']);
  });

  it('draws the steps in time order, keeping the given order for steps at the same instant', () => {
    const steps = [
      step('2026-01-01T00:00:02.000Z', 'gateway', 'bank', 'third'),
      step('2026-01-01T00:00:00.000Z', 'browser', 'shop', 'first'),
      step('2026-01-01T00:00:01.000Z', 'bank', 'bank_app', 'second a', { party: 'bank' }),
      step('2026-01-01T00:00:01.000Z', 'bank', 'gateway', 'second b', { party: 'bank' }),
    ];
    assert.deepEqual(
      orderJourney(steps).map((s) => s.label),
      ['first', 'second a', 'second b', 'third'],
    );
    const svg = renderJourneySvg(steps);
    assert.deepEqual(drawnLabels(svg), ['first', 'second a', 'second b', 'third']);
    assert.match(svg, /\+1\.00 s/);
    assert.match(svg, /\+2\.00 s/);
  });

  it('has one column per lane, in the order of the conversation, and arrows between the lanes named', () => {
    const svg = renderJourneySvg([
      step('2026-01-01T00:00:00.000Z', 'browser', 'bank_app', 'across'),
      step('2026-01-01T00:00:01.000Z', 'bank', 'bank', 'a note'),
    ]);
    const headers = [...svg.matchAll(/font-weight="bold" text-anchor="middle"[^>]*>([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(headers, ['Browser', 'Shop', 'Gateway', 'Bank', 'Bank app']);
    const xOf = (name: string) => Number(new RegExp(`<text x="([0-9.]+)"[^>]*>${name}<`).exec(svg)![1]);
    const across = /data-from="browser" data-to="bank_app"[^>]*>.*?<line x1="([0-9.]+)"[^>]*x2="([0-9.]+)"/s.exec(svg)!;
    assert.equal(Number(across[1]), xOf('Browser'));
    assert.ok(Number(across[2]) > xOf('Bank') && Number(across[2]) < xOf('Bank app'), 'the arrow ends at the bank app');
    assert.match(svg, /data-from="bank" data-to="bank"[^>]*>.*?<rect/s);
  });

  it('marks verdicts in colour and in words, and shows whose record each step is', () => {
    const svg = renderJourneySvg([
      step('2026-01-01T00:00:00.000Z', 'shop', 'gateway', 'acknowledged', { verdict: 'ok' }),
      step('2026-01-01T00:00:01.000Z', 'bank_app', 'bank', 'declines', { verdict: 'refused', party: 'bank' }),
      step('2026-01-01T00:00:02.000Z', 'gateway', 'shop', 'timeout', { verdict: 'retry', party: 'gateway' }),
    ]);
    assert.match(svg, /data-verdict="ok"[^>]*>.*?#1f7a3a.*?acknowledged  ✓/s);
    assert.match(svg, /data-verdict="refused"[^>]*>.*?#b3261e.*?declines  ✗ refused/s);
    assert.match(svg, /data-verdict="retry"[^>]*>.*?stroke-dasharray="6 4".*?timeout  ↻ retry/s);
    assert.match(svg, /<text[^>]*>bank<\/text><\/g>/, "the bank step says it is the bank's record");
    assert.match(svg, /own clock/);
  });

  it("takes from another party's JSON only well-formed steps", () => {
    assert.equal(parseJourneyStep({ at: 'x', from: 'shop', to: 'bank', label: 'l', party: 'bank' }), undefined);
    assert.equal(
      parseJourneyStep({ at: '2026-01-01T00:00:00Z', from: 'mars', to: 'bank', label: 'l', party: 'bank' }),
      undefined,
    );
    assert.equal(
      parseJourneyStep({ at: '2026-01-01T00:00:00Z', from: 'shop', to: 'bank', label: 'l', party: 'x' }),
      undefined,
    );
    assert.deepEqual(
      parseJourneyStep({
        at: '2026-01-01T00:00:00Z',
        from: 'gateway',
        to: 'bank',
        label: 'l',
        party: 'bank',
        verdict: 'weird',
      }),
      { at: '2026-01-01T00:00:00.000Z', from: 'gateway', to: 'bank', label: 'l', party: 'bank' },
    );
  });
});
