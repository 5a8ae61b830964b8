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

/** What is missing from, or too loose in, an answer's policy and companion headers. Empty when strict. */
export function policyFindings(headers: Headers): string[] {
  const csp = parseCsp(headers.get('content-security-policy'));
  if (csp.size === 0) return ['no Content-Security-Policy'];
  const found: string[] = [];
  const exactly = (name: string, ...allowed: string[]) => {
    if (!allowed.includes(csp.get(name)?.join(' ') ?? ''))
      found.push(`${name} ${csp.get(name)?.join(' ') ?? '(absent)'}`);
  };
  exactly('default-src', "'none'");
  exactly('object-src', "'none'");
  exactly('frame-ancestors', "'none'");
  exactly('base-uri', "'none'", "'self'");
  const script = csp.get('script-src') ?? [];
  if (script.length === 0 || !script.every((s) => s === "'self'" || s === "'none'" || s.startsWith("'nonce-")))
    found.push(`script-src ${script.join(' ')}`);
  if (!["'self'", "'none'"].includes(csp.get('form-action')?.[0] ?? '')) found.push('form-action');
  for (const [name, sources] of csp)
    if (sources.some((s) => /unsafe-(inline|eval|hashes)|^\*$|^https?:$|^data:$/.test(s)))
      found.push(`${name} ${sources.join(' ')}`);
  if (headers.get('x-content-type-options') !== 'nosniff') found.push('no nosniff');
  if (headers.get('x-frame-options') !== 'DENY') found.push('no X-Frame-Options: DENY');
  if (!/^(same-origin|no-referrer)$/.test(headers.get('referrer-policy') ?? '')) found.push('no Referrer-Policy');
  return found;
}

/** Asserts the headers and the markup of one HTML answer; `what` names it in failures. */
export function assertStrictPage(what: string, headers: Headers, html: string, expected: ExpectedCsp = {}): void {
  assert.deepEqual(policyFindings(headers), [], what);
  const csp = parseCsp(headers.get('content-security-policy'));
  if (expected.formAction) assert.deepEqual(csp.get('form-action'), expected.formAction, `${what}: form-action`);
  if (expected.connect) assert.deepEqual(csp.get('connect-src'), expected.connect, `${what}: connect-src`);
  assertNoInlineCode(
    what,
    html,
    (csp.get('script-src') ?? []).some((s) => s.startsWith("'nonce-")),
  );
}

/**
 * What in a page's markup a strict policy would have to block, or that would steer the page: inline
 * script (unless it carries a nonce), inline style, an event-handler attribute, a javascript: URL, a
 * <base>, a refresh, a plugin or a frame. Empty for a clean page.
 */
export function inlineCodeFindings(html: string, nonced = false): string[] {
  const found: string[] = [];
  if (!/^<!doctype html>/i.test(html)) found.push('not an HTML page (no doctype)');
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (nonced && /\snonce=/.test(m[1]!)) continue;
    if (!/\ssrc="\/[^"]+"/.test(m[1]!) || m[2]!.trim() !== '') found.push(`inline script: ${m[0].slice(0, 80)}`);
  }
  // Tags with their quoted values: text escaped inside a value is data, an attribute outside one is markup.
  for (const tag of html.match(/<[a-z](?:"[^"]*"|'[^']*'|[^'">])*>/gi) ?? []) {
    const names = tag.replace(/"[^"]*"|'[^']*'/g, '""');
    if (/\son[a-z]+\s*=/i.test(names)) found.push(`event-handler attribute: ${tag.slice(0, 80)}`);
    if (/\sstyle\s*=/i.test(names)) found.push(`inline style attribute: ${tag.slice(0, 80)}`);
    if (!nonced && /^<style\b/i.test(tag)) found.push('inline <style> element');
    if (/^<(base|object|embed|iframe|frame)\b/i.test(tag) || /^<meta\b[^>]*http-equiv/i.test(names))
      found.push(`steering element: ${tag.slice(0, 80)}`);
    if (/\s(href|src|action|formaction|data)\s*=\s*["']?\s*javascript:/i.test(tag))
      found.push(`javascript: URL: ${tag.slice(0, 80)}`);
  }
  return found;
}

/** Asserts that the markup needs nothing a strict policy blocks (see inlineCodeFindings). */
export function assertNoInlineCode(what: string, html: string, nonced = false): void {
  assert.deepEqual(inlineCodeFindings(html, nonced), [], what);
}

/**
 * Collects every CSP violation on every page of the context: the `securitypolicyviolation` event of
 * each document (reported through a binding, which the page's own policy does not govern) and
 * Chromium's console report (which also names blocked form submissions and redirects).
 */
export async function watchCspViolations(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeBinding('__reportCspViolation', (source, text: string) =>
    violations.push(`${source.page?.url() ?? '?'}: ${text}`),
  );
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __reportCspViolation: (t: string) => void }).__reportCspViolation(
        `${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });
  context.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) violations.push(`${m.page()?.url() ?? '?'}: ${m.text()}`);
  });
  return violations;
}
