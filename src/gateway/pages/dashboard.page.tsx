// The merchant dashboard's pages: server-rendered, no script at all (forms only, each with a CSRF token).
import type { Child } from 'hono/jsx';
import { formatMoney, money, type Currency } from '../../core/money.ts';
import type { MerchantRow, SessionRow } from '../storage/tables.ts';
import type { credentials, paymentDetail } from '../storage/dashboard.ts';

/** The dashboard's stylesheet, served from /dashboard/assets/dashboard.css (the CSP allows no inline style). */
export const DASHBOARD_STYLES = `body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1f}table{border-collapse:collapse;font-size:.9rem}
td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}nav a{margin-right:1rem}
.notice{background:#fff6d6;padding:.6rem;border-radius:4px}code{background:#f3f3f3;padding:.1rem .3rem}form.inline{display:inline}`;

const money$ = (minor: bigint, currency: string) => formatMoney(money(minor, currency as Currency));

function Layout(props: { title: string; merchant?: MerchantRow; csrf?: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{props.title} · countersign gateway</title>
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css" />
      </head>
      <body>
        {props.merchant ? (
          <nav>
            <strong>{props.merchant.name}</strong> · <a href="/dashboard">Payments</a>
            <a href="/dashboard/settings">API keys and webhooks</a>
            <form class="inline" method="post" action="/dashboard/logout">
              <input type="hidden" name="csrf" value={props.csrf} />
              <button type="submit">Log out</button>
            </form>
          </nav>
        ) : null}
        <h1>{props.title}</h1>
        {props.children}
      </body>
    </html>
  );
}

/** The login form (merchants log in with a secret API key). */
export function LoginPage(props: { error?: string }) {
  return (
    <Layout title="Merchant dashboard">
      {props.error ? (
        <p class="notice" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/dashboard/login">
        <label for="api_key">Secret API key</label>{' '}
        <input id="api_key" name="api_key" type="password" autocomplete="off" size={50} />
        <button type="submit">Log in</button>
      </form>
    </Layout>
  );
}

/** The payments list. */
export function PaymentsPage(props: { merchant: MerchantRow; csrf: string; payments: SessionRow[] }) {
  return (
    <Layout title="Payments" merchant={props.merchant} csrf={props.csrf}>
      {props.merchant.webhookEnabled ? null : (
        <p class="notice">
          Webhook deliveries are disabled (the endpoint answered 410). Re-enable them under API keys and webhooks.
        </p>
      )}
      <table>
        <tr>
          <th>Created</th>
          <th>Session</th>
          <th>Reference</th>
          <th>Amount</th>
          <th>Status</th>
          <th>Acknowledgement</th>
        </tr>
        {props.payments.map((p) => (
          <tr>
            <td>{p.createdAt.toISOString()}</td>
            <td>
              <a href={`/dashboard/payments/${p.id}`}>{p.id}</a>
            </td>
            <td>{p.merchantReference}</td>
            <td>{money$(p.amountMinor, p.currency)}</td>
            <td>{p.status}</td>
            <td>{p.acknowledgement ?? ''}</td>
          </tr>
        ))}
      </table>
    </Layout>
  );
}

/** One payment: its events, deliveries with every attempt (and re-send), and refunds. */
export function PaymentPage(props: {
  merchant: MerchantRow;
  csrf: string;
  detail: NonNullable<Awaited<ReturnType<typeof paymentDetail>>>;
}) {
  const { session: s, events, deliveries, attempts, refunds } = props.detail;
  return (
    <Layout title={`Payment ${s.id}`} merchant={props.merchant} csrf={props.csrf}>
      <p>
        {money$(s.amountMinor, s.currency)} · reference {s.merchantReference} · status <strong>{s.status}</strong>
        {s.cardLast4 ? ` · ${s.cardBrand} •••• ${s.cardLast4}` : ''}{' '}
        {s.voidReason ? ` · void reason ${s.voidReason}` : ''}
        {s.declineReason ? ` · declined: ${s.declineReason}` : ''} ·{' '}
        <a href={`/dashboard/payments/${s.id}/journey`}>journey</a>
      </p>
      <h2>Events and deliveries</h2>
      <table>
        <tr>
          <th>Event</th>
          <th>Type</th>
          <th>Seq</th>
          <th>Delivery</th>
          <th>Attempts (status, latency, response)</th>
          <th></th>
        </tr>
        {events.flatMap((e) => {
          // One row per delivery (a Stripe event goes to each of its endpoints), or one with none.
          const ds = deliveries.filter((x) => x.eventId === e.id);
          return (ds.length ? ds : [null]).map((d) => (
            <tr>
              <td>{e.id}</td>
              <td>{e.type}</td>
              <td>{e.sequence ?? '—'}</td>
              <td>{d ? `${d.status}${d.webhookEndpointId ? ` → ${d.webhookEndpointId}` : ''}` : 'no endpoint'}</td>
              <td>
                {attempts
                  .filter((a) => d && a.deliveryId === d.id)
                  .map((a) => (
                    <div>
                      #{a.attempt} {a.statusCode ?? a.error ?? '—'} · {a.latencyMs} ms ·{' '}
                      <code>{(a.responseExcerpt ?? '').slice(0, 80)}</code>
                    </div>
                  ))}
              </td>
              <td>
                {d ? (
                  <form method="post" action={`/dashboard/deliveries/${d.id}/resend`}>
                    <input type="hidden" name="csrf" value={props.csrf} />
                    <input type="hidden" name="back" value={s.id} />
                    <button type="submit">Re-send</button>
                  </form>
                ) : null}
              </td>
            </tr>
          ));
        })}
      </table>
      <h2>Refunds</h2>
      <table>
        <tr>
          <th>Refund</th>
          <th>Amount</th>
          <th>Reason</th>
          <th>Status</th>
        </tr>
        {refunds.map((r) => (
          <tr>
            <td>{r.id}</td>
            <td>{money$(r.amountMinor, r.currency)}</td>
            <td>{r.reason}</td>
            <td>{r.status}</td>
          </tr>
        ))}
      </table>
    </Layout>
  );
}

/** API keys, signing secrets (rotation) and the webhook endpoint. */
export function SettingsPage(props: {
  merchant: MerchantRow;
  csrf: string;
  creds: Awaited<ReturnType<typeof credentials>>;
  shownOnce?: { label: string; value: string };
}) {
  const form = (action: string, label: string) => (
    <form method="post" action={action}>
      <input type="hidden" name="csrf" value={props.csrf} />
      <button type="submit">{label}</button>
    </form>
  );
  return (
    <Layout title="API keys and webhooks" merchant={props.merchant} csrf={props.csrf}>
      {props.shownOnce ? (
        <p class="notice" id="shown-once">
          {props.shownOnce.label} (shown once, copy it now): <code>{props.shownOnce.value}</code>
        </p>
      ) : null}
      <h2>Webhook endpoint</h2>
      <p>
        {props.merchant.webhookUrl ?? 'none'} · {props.merchant.webhookEnabled ? 'enabled' : 'disabled'} ·
        acknowledgement window {props.merchant.ackWindowSeconds} s
      </p>
      {props.merchant.webhookEnabled ? null : form('/dashboard/settings/webhooks/enable', 'Re-enable deliveries')}
      <h2>API keys</h2>
      <table>
        <tr>
          <th>Prefix</th>
          <th>Created</th>
          <th>Revoked</th>
        </tr>
        {props.creds.keys.map((k) => (
          <tr>
            <td>
              <code>{k.prefix}…</code>
            </td>
            <td>{k.createdAt.toISOString()}</td>
            <td>{k.revokedAt?.toISOString() ?? ''}</td>
          </tr>
        ))}
      </table>
      {form('/dashboard/settings/keys', 'Create an API key')}
      <h2>Signing secrets</h2>
      <p>
        Every delivery is signed with each active secret (at most two: the newest and the one before). Rotating adds a
        new secret; the one before keeps signing for 24 hours beside it, so that your endpoint can learn the new one
        before the old one stops.
      </p>
      <table>
        <tr>
          <th>Secret</th>
          <th>Created</th>
          <th>Retired</th>
        </tr>
        {props.creds.secrets.map((s) => (
          <tr>
            <td>
              <code>{s.hint}</code>
            </td>
            <td>{s.createdAt.toISOString()}</td>
            <td>{s.retiredAt?.toISOString() ?? (s.expiresAt ? `expires ${s.expiresAt.toISOString()}` : 'active')}</td>
          </tr>
        ))}
      </table>
      {form('/dashboard/settings/secrets/rotate', 'Rotate the signing secret')}
    </Layout>
  );
}
