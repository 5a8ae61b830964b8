// Reading a journey diagram back in tests: the steps of the SVG, in the order drawn.

/** The steps of a journey SVG, in the order drawn: lanes, verdict, whose record, and the label. */
export function stepsOfSvg(html: string) {
  const decode = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  return [
    ...html.matchAll(
      /<g class="step" data-from="([^"]+)" data-to="([^"]+)" data-party="([^"]+)" data-verdict="([^"]+)">(.*?)<\/g>/gs,
    ),
  ].map((m) => {
    const texts = [...m[5]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => decode(t[1]!));
    return { from: m[1]!, to: m[2]!, party: m[3]!, verdict: m[4]!, label: texts[2] ?? '' };
  });
}
