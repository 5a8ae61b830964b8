// The dashboard's frame: the stylesheet, the navigation, times, badges and the one-time secret box.
// Server-rendered, no script at all (forms only, each with the session's CSRF token).
import type { Child } from 'hono/jsx';
import type { DashboardRole } from '../domain/dashboard-account.rule.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { age, humanTime } from './dashboard-format.ts';

/** What every logged-in page knows: whose dashboard, who is looking, the CSRF token and the time. */
export interface DashView {
  readonly merchant: MerchantRow;
  readonly csrf: string;
  readonly now: Date;
  readonly user: { email: string; role: DashboardRole } | null;
}

export type Section = 'payments' | 'disputes' | 'payouts' | 'events' | 'keys' | 'webhooks' | 'faults' | 'team';

/** The dashboard's stylesheet, served from /dashboard/assets/dashboard.css (the CSP allows no inline style). */
export const DASHBOARD_STYLES = `:root{--ink:#1a1f36;--muted:#697386;--line:#e3e8ee;--bg:#f6f7f9;--accent:#635bff;--ok:#0e6245;--okbg:#cbf4c9;--bad:#a41c4e;--badbg:#fde2dd;--warn:#983705;--warnbg:#fcedb9}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;align-items:center;gap:1rem;background:#fff;border-bottom:1px solid var(--line);padding:.6rem 1.5rem}
header.top .brand{font-weight:700}header.top .brand small{display:block;font-weight:400;color:var(--muted);font-size:.75rem}
nav.main{display:flex;gap:.1rem;flex-wrap:wrap;min-width:0}nav.main a{padding:.35rem .7rem;border-radius:6px;color:var(--ink)}
nav.main a.on{background:#eef0ff;color:var(--accent);font-weight:600}nav.main .group{color:var(--muted);padding:.35rem .2rem .35rem .8rem;font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
header.top .who{margin-left:auto;color:var(--muted);display:flex;gap:.6rem;align-items:center;white-space:nowrap}header.top .brand{white-space:nowrap}
main{max-width:1180px;margin:1.5rem auto;padding:0 1.5rem}h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.2rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:8px;font-size:.9rem}
th{font-weight:600;color:var(--muted);font-size:.78rem;text-transform:uppercase;letter-spacing:.03em;background:#fafbfc}
td,th{padding:.5rem .7rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}tr:last-child td{border-bottom:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}code{background:#f3f4f7;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
time{white-space:nowrap}.age{color:var(--muted);font-size:.8em;display:block}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:10px;font-size:.78rem;font-weight:600;background:#e3e8ee;color:#3c4257;white-space:nowrap}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.bad{background:var(--badbg);color:var(--bad)}.badge.warn{background:var(--warnbg);color:var(--warn)}
.notice{background:var(--warnbg);color:var(--warn);padding:.7rem 1rem;border-radius:8px;margin:0 0 1rem}.notice.error{background:var(--badbg);color:var(--bad)}
.secret{background:#eef0ff;border:1px solid #c7c5ff;padding:.8rem 1rem;border-radius:8px;margin:0 0 1rem}.secret code{font-size:1rem;background:#fff}
form.inline{display:inline}form.filters{margin:1rem 0;display:flex;gap:.6rem;align-items:end;flex-wrap:wrap;margin-bottom:1rem}
label{display:block;font-size:.8rem;font-weight:600;color:var(--muted);margin-bottom:.2rem}
input,select{font:inherit;padding:.4rem .55rem;border:1px solid #c9d0d9;border-radius:6px;background:#fff;min-width:0}
button{font:inherit;padding:.4rem .8rem;border-radius:6px;border:1px solid #c9d0d9;background:#fff;cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff;font-weight:600}button.danger{color:var(--bad)}
.auth{max-width:420px;margin:0 auto}main.anon{max-width:470px;margin-top:4rem}main.anon h1{text-align:center}.auth .card{padding:1.5rem}.auth form div{margin-bottom:.8rem}.auth input{width:100%}.auth button.primary{width:100%}
.field-error{color:var(--bad);font-size:.8rem}.muted{color:var(--muted)}.pager{margin:1rem 0;display:flex;gap:1rem}
ol.timeline{list-style:none;padding:0;margin:0;border-left:2px solid var(--line)}ol.timeline li{position:relative;padding:.2rem 0 .8rem 1.2rem}
ol.timeline li:before{content:"";position:absolute;left:-7px;top:.55rem;width:12px;height:12px;border-radius:50%;background:#fff;border:2px solid var(--accent)}
ol.timeline li.ok:before{border-color:var(--ok);background:var(--okbg)}ol.timeline li.bad:before{border-color:var(--bad);background:var(--badbg)}
ol.timeline .what{font-weight:600}ol.timeline .detail{color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.2rem;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:1rem}@media (max-width:800px){.grid2{grid-template-columns:1fr}}`;

/** A time as "2 Dec 2026, 05:12 UTC" with its age under it (the ISO instant in the title). */
export function When(props: { at: Date | null | undefined; now: Date; seconds?: boolean }) {
  if (!props.at) return <span class="muted">—</span>;
  return (
    <span>
      <time datetime={props.at.toISOString()} title={props.at.toISOString()}>
        {humanTime(props.at, props.seconds)}
      </time>
      <span class="age">{age(props.at, props.now)}</span>
    </span>
  );
}

const GOOD = new Set([
  'captured',
  'succeeded',
  'delivered',
  'acknowledged',
  'enabled',
  'active',
  'refunded',
  'partially_refunded',
  'paid',
]);
const BAD = new Set([
  'declined',
  'voided',
  'failed',
  'refused',
  'timed_out',
  'disabled',
  'revoked',
  'expired',
  'canceled',
]);

/** A status as a coloured badge. */
export function Badge(props: { status: string }) {
  const tone = GOOD.has(props.status) ? ' ok' : BAD.has(props.status) ? ' bad' : ' warn';
  return <span class={`badge${tone}`}>{props.status.replace(/_/g, ' ')}</span>;
}

/** The CSRF field every form carries. */
export function Csrf(props: { csrf: string }) {
  return <input type="hidden" name="csrf" value={props.csrf} />;
}

/** A one-button form. */
export function Button(props: {
  csrf: string;
  action: string;
  label: string;
  tone?: 'primary' | 'danger';
  fields?: Record<string, string>;
}) {
  return (
    <form class="inline" method="post" action={props.action}>
      <Csrf csrf={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={props.tone ?? ''}>
        {props.label}
      </button>
    </form>
  );
}

/** A secret shown once, right after it was made. */
export function ShownOnce(props: { label: string; value: string }) {
  return (
    <div class="secret" id="shown-once" role="status">
      <strong>{props.label}</strong> — shown once, copy it now: <code>{props.value}</code>
    </div>
  );
}

function Nav(props: { view: DashView; section: Section | undefined }) {
  const link = (section: Section, href: string, label: string) => (
    <a href={href} class={props.section === section ? 'on' : ''}>
      {label}
    </a>
  );
  return (
    <nav class="main">
      {link('payments', '/dashboard', 'Payments')}
      {link('disputes', '/dashboard/disputes', 'Disputes')}
      {link('payouts', '/dashboard/payouts', 'Payouts')}
      {link('events', '/dashboard/events', 'Events')}
      <span class="group">Developers</span>
      {link('keys', '/dashboard/settings', 'API keys')}
      {link('webhooks', '/dashboard/webhooks', 'Webhooks')}
      {link('faults', '/dashboard/faults', 'Faults')}
      <span class="group">Account</span>
      {link('team', '/dashboard/team', 'Team')}
    </nav>
  );
}

/** The page frame; `view` absent: a page before login. */
export function Layout(props: { title: string; view?: DashView; section?: Section; children: Child }) {
  const { view } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · countersign gateway</title>
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css" />
      </head>
      <body>
        {view ? (
          <header class="top">
            <div class="brand">
              {view.merchant.name}
              <small>countersign gateway · test mode</small>
            </div>
            <Nav view={view} section={props.section} />
            <div class="who">
              <span>{view.user ? `${view.user.email} (${view.user.role})` : 'signed in with an API key'}</span>
              <Button csrf={view.csrf} action="/dashboard/logout" label="Log out" />
            </div>
          </header>
        ) : null}
        <main class={view ? '' : 'anon'}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}
