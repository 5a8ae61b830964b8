// The dashboard's payouts: what was paid (or tried) to the merchant's bank account, and for one
// payout the captured payments it covers. An owner may start a payout of the available balance now.
import type { PayoutItemRow, PayoutRow } from '../storage/payout-tables.ts';
import { money$ } from './dashboard-format.ts';
import { Badge, Button, Layout, When, type DashView } from './dashboard-layout.tsx';

/** The list of payouts, newest first. */
export function PayoutsPage(props: { view: DashView; payouts: readonly PayoutRow[]; started?: number | undefined }) {
  const { view } = props;
  const owner = view.user === null || view.user.role === 'owner';
  return (
    <Layout title="Payouts" view={view} section="payouts">
      {props.started !== undefined ? (
        <p class="notice" role="status">
          {props.started === 0 ? 'Nothing is available to pay out.' : `${props.started} payout(s) started.`}
        </p>
      ) : null}
      <p class="muted">
        Your available balance is paid to your bank account every day. A payout the bank refuses is marked failed and
        its amount returns to your available balance. The same list answers <code>GET /v1/payouts</code>.
      </p>
      {owner ? <Button csrf={view.csrf} action="/dashboard/payouts/run" label="Pay out available balance now" /> : null}
      {props.payouts.length === 0 ? (
        <p class="muted" id="no-payouts">
          No payouts yet.
        </p>
      ) : (
        <table id="payouts">
          <tr>
            <th>Payout</th>
            <th>Amount</th>
            <th>Status</th>
            <th>Created</th>
            <th>Arrived</th>
          </tr>
          {props.payouts.map((p) => (
            <tr data-payout={p.id}>
              <td>
                <a href={`/dashboard/payouts/${p.id}`}>{p.id}</a>
              </td>
              <td class="num">{money$(p.amountMinor, p.currency)}</td>
              <td>
                <Badge status={p.status} />
              </td>
              <td>
                <When at={p.createdAt} now={view.now} />
              </td>
              <td>{p.arrivedAt ? <When at={p.arrivedAt} now={view.now} /> : '—'}</td>
            </tr>
          ))}
        </table>
      )}
    </Layout>
  );
}

/** One payout and the payments it covers. */
export function PayoutPage(props: { view: DashView; payout: PayoutRow; items: readonly PayoutItemRow[] }) {
  const { view, payout: p } = props;
  return (
    <Layout title={`Payout ${p.id}`} view={view} section="payouts">
      <p>
        <strong data-payout-amount>{money$(p.amountMinor, p.currency)}</strong> <Badge status={p.status} />
        {p.failureCode ? <span class="muted"> refused by the bank: {p.failureCode}</span> : null}
      </p>
      <p class="muted">
        Created <When at={p.createdAt} now={view.now} />
        {p.arrivedAt ? (
          <span>
            {' '}
            · arrived <When at={p.arrivedAt} now={view.now} />
          </span>
        ) : null}
      </p>
      <h2>Payments covered</h2>
      <table id="payout-payments">
        <tr>
          <th>Payment</th>
          <th>Captured</th>
          <th>Fee</th>
        </tr>
        {props.items.map((i) => (
          <tr data-session={i.sessionId}>
            <td>
              <a href={`/dashboard/payments/${i.sessionId}`}>{i.sessionId}</a>
            </td>
            <td class="num">{money$(i.capturedMinor, p.currency)}</td>
            <td class="num">{money$(i.feeMinor, p.currency)}</td>
          </tr>
        ))}
      </table>
      <p class="muted">
        The amount is what was available when the payout was made: these payments less their fees, and less any refunds
        made since the previous payout.
      </p>
    </Layout>
  );
}
