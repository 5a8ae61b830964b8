// The merchant's disputes: the list (status, amount, reason, deadline) and one dispute with its
// payment, its evidence and its ledger transfers. Answering is done through the API (or the shop).
import { parseAccountId } from '../domain/ledger.account.ts';
import type { DisputeRow } from '../storage/dispute-tables.ts';
import type { LedgerTransferRow } from '../storage/ledger-tables.ts';
import { money$ } from './dashboard-format.ts';
import { Badge, Layout, When, type DashView } from './dashboard-layout.tsx';

/** The list of disputes, newest first. */
export function DisputesPage(props: { view: DashView; disputes: DisputeRow[] }) {
  const { view } = props;
  return (
    <Layout title="Disputes" view={view} section="disputes">
      {props.disputes.length === 0 ? <p class="muted">No disputes.</p> : null}
      <table>
        <tr>
          <th>Opened</th>
          <th>Dispute</th>
          <th>Status</th>
          <th>Amount</th>
          <th>Reason</th>
          <th>Respond by</th>
          <th>Payment</th>
        </tr>
        {props.disputes.map((d) => (
          <tr data-dispute-id={d.id}>
            <td>
              <When at={d.createdAt} now={view.now} />
            </td>
            <td>
              <a class="mono" href={`/dashboard/disputes/${d.id}`}>
                {d.id}
              </a>
            </td>
            <td>
              <Badge status={d.status} />
            </td>
            <td>{money$(d.amountMinor, d.currency)}</td>
            <td>{d.reason}</td>
            <td>{d.status === 'needs_response' ? <When at={d.evidenceDueBy} now={view.now} /> : '—'}</td>
            <td>
              <a class="mono" href={`/dashboard/payments/${d.sessionId}`}>
                {d.sessionId}
              </a>
            </td>
          </tr>
        ))}
      </table>
    </Layout>
  );
}

/** One dispute. */
export function DisputePage(props: { view: DashView; dispute: DisputeRow; transfers: LedgerTransferRow[] }) {
  const { view, dispute: d } = props;
  return (
    <Layout title={`Dispute ${d.id}`} view={view} section="disputes">
      <dl>
        <dt>Status</dt>
        <dd>
          <Badge status={d.status} />
        </dd>
        <dt>Amount</dt>
        <dd>{money$(d.amountMinor, d.currency)}</dd>
        <dt>Reason</dt>
        <dd>{d.reason}</dd>
        <dt>Payment</dt>
        <dd>
          <a class="mono" href={`/dashboard/payments/${d.sessionId}`}>
            {d.sessionId}
          </a>
        </dd>
        <dt>Respond by</dt>
        <dd>
          <When at={d.evidenceDueBy} now={view.now} />
        </dd>
        <dt>Opened</dt>
        <dd>
          <When at={d.createdAt} now={view.now} />
        </dd>
        <dt>Closed</dt>
        <dd>{d.closedAt ? <When at={d.closedAt} now={view.now} /> : '—'}</dd>
        <dt>Answer sent to the bank</dt>
        <dd>{d.forwardedAt ? <When at={d.forwardedAt} now={view.now} /> : '—'}</dd>
      </dl>
      <h2>Evidence</h2>
      {d.evidence ? (
        <div>
          <pre class="evidence">{d.evidence.text}</pre>
          <ul>
            {d.evidence.files.map((f) => (
              <li>
                {f.name} ({f.content_type}, {Math.floor((f.content_base64.length * 3) / 4)} bytes)
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="muted">
          {d.status === 'needs_response'
            ? 'None yet. Submit evidence or accept through the API (POST /v1/disputes/{id}/evidence or /accept).'
            : 'None.'}
        </p>
      )}
      <h2>Ledger</h2>
      <table>
        <tr>
          <th>Transfer</th>
          <th>From</th>
          <th>To</th>
          <th>Amount</th>
        </tr>
        {props.transfers.map((t) => (
          <tr>
            <td class="mono">{t.id}</td>
            <td class="mono">{parseAccountId(t.debitAccountId).kind}</td>
            <td class="mono">{parseAccountId(t.creditAccountId).kind}</td>
            <td>{money$(t.amountMinor, t.currency)}</td>
          </tr>
        ))}
      </table>
    </Layout>
  );
}
