// The bank app's page frame: mobile-sized, no external assets.
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { contentSecurityPolicy } from '../../platform/http/security-headers.ts';

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.4 system-ui,-apple-system,sans-serif;background:#eef1f5;color:#1c2430}
main{max-width:420px;margin:0 auto;min-height:100vh;background:#fff;padding:16px 16px 40px}
header{display:flex;justify-content:space-between;align-items:center;margin-bottom:12px}
h1{font-size:20px;margin:0}h2{font-size:15px;text-transform:uppercase;letter-spacing:.04em;color:#5b6675;margin:20px 0 8px}
.live{font-size:12px;color:#8a94a3}body[data-live=true] .live{color:#1a7f37}
.card{border:1px solid #d6dbe3;border-radius:14px;padding:14px;margin:10px 0;box-shadow:0 1px 3px rgba(0,0,0,.06)}
.approval{border-color:#2f6feb;background:#f5f8ff}.merchant{font-weight:600}.amount{font-size:28px;font-weight:700;margin:6px 0}
.meta{color:#5b6675;font-size:14px}.left{font-variant-numeric:tabular-nums;font-weight:600}
.actions{display:flex;gap:10px;margin-top:12px}.actions form{flex:1;margin:0}
button{width:100%;padding:12px;border-radius:10px;border:0;font-size:16px;font-weight:600;cursor:pointer}
.approve{background:#1a7f37;color:#fff}.decline{background:#e5e7eb;color:#1c2430}button:disabled{opacity:.5;cursor:default}
.outcome{margin-top:8px;font-weight:600}.empty{color:#8a94a3}
ul.list{list-style:none;padding:0;margin:0}ul.list li{display:flex;justify-content:space-between;padding:8px 0;border-bottom:1px solid #eef1f5;gap:8px}
.amt{white-space:nowrap;text-align:right}.neg{color:#b42318}.pos{color:#1a7f37}label{display:block;margin:12px 0 4px;font-weight:600}
input{width:100%;padding:12px;border:1px solid #c4cbd6;border-radius:10px;font-size:16px}.error{color:#b42318;margin:10px 0}
.link{background:none;color:#2f6feb;padding:0;width:auto;font-weight:500}
`;

/**
 * The Content-Security-Policy of every bank page: the strict one, with only this page's own inline
 * style and script (by nonce) — the app is one page that must work before any other file loads. An
 * Approve button must never be clickjackable: frame-ancestors 'none' stays.
 */
export function bankContentSecurityPolicy(nonce: string): string {
  return contentSecurityPolicy({ 'script-src': [`'nonce-${nonce}'`], 'style-src': [`'nonce-${nonce}'`] });
}

/** The document around every bank page. */
export function Layout(props: { title: string; nonce: string; children: Child; bodyAttrs?: Record<string, string> }) {
  // The doctype keeps the page out of quirks mode.
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{props.title}</title>
          <style nonce={props.nonce} dangerouslySetInnerHTML={{ __html: STYLE }} />
        </head>
        <body {...(props.bodyAttrs ?? {})}>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}
