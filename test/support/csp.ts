// Checks every party's pages share: the strict Content-Security-Policy and its companion headers on
// the response, and markup that needs nothing the policy forbids (no inline script or style, no
// on*= handler); and, in Chromium, every violation the browser reports on any page of a context.
import assert from 'node:assert/strict';
import type { BrowserContext } from 'playwright-core';

/** A CSP header as directive name → source list. */
export function parseCsp(header: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}

/** What a page's policy must allow beyond the strict base (exact source lists). */
export interface ExpectedCsp {
  readonly connect?: readonly string[];
  readonly formAction?: readonly string[];
}

/** Asserts the headers and the markup of one HTML answer; `what` names it in failures. */
export function assertStrictPage(what: string, headers: Headers, html: string, expected: ExpectedCsp = {}): void {
  const csp = parseCsp(headers.get('content-security-policy'));
  assert.ok(csp.size > 0, `${what}: no Content-Security-Policy`);
  assert.deepEqual(csp.get('default-src'), ["'none'"], `${what}: default-src`);
  const script = csp.get('script-src') ?? [];
  const strictSource = (s: string) => s === "'self'" || s === "'none'" || s.startsWith("'nonce-");
  assert.ok(script.length > 0 && script.every(strictSource), `${what}: script-src ${script.join(' ')}`);
  for (const [name, sources] of csp) assert.ok(!sources.some((s) => /unsafe-(inline|eval|hashes)|^\*$|^https?:$|^data:$/.test(s)), `${what}: ${name} ${sources.join(' ')}`);
  assert.deepEqual(csp.get('object-src'), ["'none'"], `${what}: object-src`);
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], `${what}: frame-ancestors`);
  assert.ok(["'none'", "'self'"].includes(csp.get('base-uri')?.join(' ') ?? ''), `${what}: base-uri`);
  if (expected.formAction) assert.deepEqual(csp.get('form-action'), expected.formAction, `${what}: form-action`);
  else assert.ok(csp.get('form-action')?.[0] === "'self'" || csp.get('form-action')?.[0] === "'none'", `${what}: form-action`);
  if (expected.connect) assert.deepEqual(csp.get('connect-src'), expected.connect, `${what}: connect-src`);
  assert.equal(headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(headers.get('x-frame-options'), 'DENY', `${what}: x-frame-options`);
  assert.match(headers.get('referrer-policy') ?? '', /^(same-origin|no-referrer)$/, `${what}: referrer-policy`);
  assertNoInlineCode(what, html, script.some((s) => s.startsWith("'nonce-")));
}

/** No inline script (unless it carries the page's nonce), no inline style, no event-handler attribute. */
export function assertNoInlineCode(what: string, html: string, nonced = false): void {
  assert.match(html, /^<!doctype html>/i, `${what}: an HTML page`);
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (nonced && /\snonce=/.test(m[1]!)) continue;
    assert.match(m[1]!, /\ssrc="\/[^"]+"/, `${what}: a script without src: ${m[0].slice(0, 80)}`);
    assert.equal(m[2]!.trim(), '', `${what}: a script with src and inline content`);
  }
  for (const tag of html.match(/<[a-z][^>]*>/gi) ?? []) {
    assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, `${what}: an event-handler attribute in ${tag.slice(0, 80)}`);
    assert.doesNotMatch(tag, /\sstyle\s*=/i, `${what}: an inline style attribute in ${tag.slice(0, 80)}`);
    if (!nonced) assert.doesNotMatch(tag, /^<style\b/i, `${what}: an inline <style> element`);
  }
}

/**
 * Collects every CSP violation on every page of the context: the `securitypolicyviolation` event of
 * each document (reported through a binding, which the page's own policy does not govern) and
 * Chromium's console report (which also names blocked form submissions and redirects).
 */
export async function watchCspViolations(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeBinding('__reportCspViolation', (source, text: string) => violations.push(`${source.page?.url() ?? '?'}: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __reportCspViolation: (t: string) => void }).__reportCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  context.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) violations.push(`${m.page()?.url() ?? '?'}: ${m.text()}`);
  });
  return violations;
}
