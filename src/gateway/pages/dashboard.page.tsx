// The dashboard's payment pages: the list (search, filters, keyset paging) and one payment (its
// timeline, events with every delivery attempt and re-send, refunds).
import type { MerchantBalance } from '../domain/ledger.balance.ts';
import type { PaymentQuery } from '../domain/payment-search.ts';
import { SESSION_STATES } from '../domain/session.machine.ts';
import type { SessionRow } from '../storage/tables.ts';
import { BalanceCard } from './dashboard-balance.tsx';
import { money$ } from './dashboard-format.ts';
import { Badge, Button, Layout, When, type DashView } from './dashboard-layout.tsx';
import { buildTimeline, type Detail } from './dashboard-timeline.ts';

export { DASHBOARD_STYLES } from './dashboard-layout.tsx';

function Filters(props: { q: PaymentQuery; raw: Record<string, string> }) {
  return (
    <form class="filters" method="get" action="/dashboard">
      <div>
        <label for="q">Search</label>
        <input id="q" name="q" value={props.q.text} size={34} placeholder="ps_… / pi_… / reference / 12.50" />
      </div>
      <div>
        <label for="status">Status</label>
        <select id="status" name="status">
          <option value="">any</option>
          {SESSION_STATES.map((s) => (
            <option value={s} selected={props.q.status === s}>
              {s.replace(/_/g, ' ')}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="from">From</label>
        <input id="from" name="from" type="date" value={props.q.from ? props.raw.from : ''} />
      </div>
      <div>
        <label for="to">To</label>
        <input id="to" name="to" type="date" value={props.q.to ? props.raw.to : ''} />
      </div>
      <button type="submit" class="primary">
        Search
      </button>
      <a href="/dashboard">Clear</a>
    </form>
  );
}

/** The payments list. */
export function PaymentsPage(props: {
  view: DashView;
  q: PaymentQuery;
  raw: Record<string, string>;
  payments: SessionRow[];
  next: string | null;
  /** The Balance card, on the first page only. */
  balances?: readonly MerchantBalance[];
}) {
  const { view } = props;
  const nextParams = new URLSearchParams({ ...props.raw, ...(props.next ? { after: props.next } : {}) });
  return (
    <Layout title="Payments" view={view} section="payments">
      {view.merchant.webhookEnabled ? null : (
        <p class="notice">
          Webhook deliveries are disabled (the endpoint answered 410). Re-enable them under{' '}
          <a href="/dashboard/webhooks">Webhooks</a>.
        </p>
      )}
      {props.balances ? <BalanceCard balances={props.balances} /> : null}
      <Filters q={props.q} raw={props.raw} />
      <table>
        <tr>
          <th>Created</th>
          <th>Amount</th>
          <th>Status</th>
          <th>Reference</th>
          <th>Payment</th>
          <th>Acknowledgement</th>
        </tr>
        {props.payments.map((p) => (
          <tr>
            <td>
              <When at={p.createdAt} now={view.now} />
            </td>
            <td class="num">{money$(p.amountMinor, p.currency)}</td>
            <td>
              <Badge status={p.status} />
            </td>
            <td>{p.merchantReference}</td>
            <td>
              <a class="mono" href={`/dashboard/payments/${p.id}`}>
                {p.id}
              </a>
              {p.cardLast4 ? <div class="muted">•••• {p.cardLast4}</div> : null}
            </td>
            <td>{p.acknowledgement ? <Badge status={p.acknowledgement} /> : <span class="muted">—</span>}</td>
          </tr>
        ))}
      </table>
      {props.payments.length === 0 ? <p class="muted">No payment matches.</p> : null}
      <div class="pager">
        {props.q.after ? <a href="/dashboard">« Newest</a> : null}
        {props.next ? <a href={`/dashboard?${nextParams.toString()}`}>Older »</a> : null}
      </div>
    </Layout>
  );
}

function Facts(props: { detail: Detail; view: DashView }) {
  const s = props.detail.session;
  return (
    <div class="card">
      <dl class="facts">
        <dt>Amount</dt>
        <dd>
          <strong>{money$(s.amountMinor, s.currency)}</strong> · captured {money$(s.capturedMinor, s.currency)} ·
          refunded {money$(s.refundedMinor, s.currency)}
        </dd>
        <dt>Status</dt>
        <dd>
          <Badge status={s.status} /> {s.acknowledgement ? <Badge status={s.acknowledgement} /> : null}
          {s.voidReason ? ` void reason ${s.voidReason}` : ''}
          {s.declineReason ? ` declined: ${s.declineReason}` : ''}
        </dd>
        <dt>Reference</dt>
        <dd>{s.merchantReference}</dd>
        <dt>Card</dt>
        <dd>{s.cardLast4 ? `${s.cardBrand} •••• ${s.cardLast4}` : '—'}</dd>
        <dt>Created</dt>
        <dd>
          <When at={s.createdAt} now={props.view.now} />
        </dd>
        <dt>API</dt>
        <dd>{s.api === 'stripe' ? `Stripe (pi_${s.id.slice(3)})` : 'native'}</dd>
      </dl>
    </div>
  );
}

/** One payment: its timeline, its events with every delivery attempt (and re-send), and its refunds. */
export function PaymentPage(props: { view: DashView; detail: Detail }) {
  const { view } = props;
  const { session: s, events, deliveries, attempts, refunds } = props.detail;
  return (
    <Layout title={`Payment ${s.id}`} view={view} section="payments">
      <p class="actions">
        <a href="/dashboard">« All payments</a> · <a href={`/dashboard/payments/${s.id}/journey`}>Journey</a>
      </p>
      <Facts detail={props.detail} view={view} />
      <h2>Timeline</h2>
      <div class="card">
        <ol class="timeline">
          {buildTimeline(props.detail).map((t) => (
            <li class={t.tone}>
              <div class="what">{t.what}</div>
              <div class="detail">
                <When at={t.at} now={view.now} seconds /> {t.detail}
              </div>
            </li>
          ))}
        </ol>
      </div>
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
              <td class="mono">{e.id}</td>
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
                  <Button
                    csrf={view.csrf}
                    action={`/dashboard/deliveries/${d.id}/resend`}
                    label="Re-send"
                    fields={{ back: s.id }}
                  />
                ) : null}
              </td>
            </tr>
          ));
        })}
      </table>
      <h2>Refunds</h2>
      {refunds.length === 0 ? (
        <p class="muted">No refund.</p>
      ) : (
        <table>
          <tr>
            <th>Refund</th>
            <th>Amount</th>
            <th>Reason</th>
            <th>Status</th>
            <th>Created</th>
          </tr>
          {refunds.map((r) => (
            <tr>
              <td class="mono">{r.id}</td>
              <td class="num">{money$(r.amountMinor, r.currency)}</td>
              <td>{r.reason}</td>
              <td>
                <Badge status={r.status} />
              </td>
              <td>
                <When at={r.createdAt} now={view.now} />
              </td>
            </tr>
          ))}
        </table>
      )}
    </Layout>
  );
}
