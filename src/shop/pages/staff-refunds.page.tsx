// The staff console's refunds page: refunds awaiting a second staff member, the reconciliation
// findings, paid orders and every refund; and the refund table shared with the order page.
import { customerRefundText } from '../domain/refund.rule.ts';
import type { FC } from 'hono/jsx';
import type { OrderRow } from '../storage/orders.ts';
import type { reconciliationFindings } from '../storage/payments.ts';
import type { RefundRow } from '../storage/refunds.ts';
import { formatWhen } from './format.ts';
import { CsrfField, Layout, Status, showMoney, type PageCtx } from './layout.tsx';
import type { Person } from '../storage/staff-payment-lists.ts';
import type { ListView } from './staff-lists.page.tsx';
import { ListFilters, Pager, personLabel } from './staff-list.tsx';
import { StaffNav } from './staff.page.tsx';

/** Refunds with their approve/reject actions (only for a staff member who did not request them). */
export const RefundRows: FC<{
  rows: RefundRow[];
  ctx: PageCtx;
  staffId: string;
  people: ReadonlyMap<string, Person>;
}> = (p) => (
  <div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th>Refund</th>
          <th>Order</th>
          <th>Requested</th>
          <th>By</th>
          <th>Reason</th>
          <th>Status</th>
          <th class="num">Amount</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((r) => (
          <tr data-testid="staff-refund" data-refund={r.id}>
            <td>{r.id}</td>
            <td>
              <a href={`/staff/orders/${r.orderId}`}>{r.orderId}</a>
            </td>
            <td>{formatWhen(r.createdAt, 'second')}</td>
            <td data-testid="refund-by">
              {personLabel(r.requestedBy, p.people)}
              {r.approvedBy
                ? ` · ${r.status === 'rejected' ? 'rejected' : 'approved'} by ${personLabel(r.approvedBy, p.people)}`
                : ''}
            </td>
            <td>
              {r.reason}
              {r.failure ? ` (${r.failure})` : ''}
              <div class="muted">Customer told: refunded {customerRefundText(r.customerReason)}</div>
            </td>
            <td>
              <Status status={r.status} />
            </td>
            <td class="num">{showMoney(r.amountMinor, r.currency)}</td>
            <td>
              {r.status === 'awaiting_approval' && r.requestedBy !== p.staffId ? (
                <span class="actions">
                  <form method="post" action={`/staff/refunds/${r.id}/approve`}>
                    <CsrfField token={p.ctx.csrf} />
                    <button type="submit">Approve</button>
                  </form>
                  <form method="post" action={`/staff/refunds/${r.id}/reject`}>
                    <CsrfField token={p.ctx.csrf} />
                    <button type="submit" class="secondary">
                      Reject
                    </button>
                  </form>
                </span>
              ) : r.status === 'awaiting_approval' ? (
                'needs another staff member'
              ) : (
                ''
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

/** GET /staff/refunds. */
export const StaffRefundsPage: FC<
  ListView & {
    people: ReadonlyMap<string, Person>;
    staffId: string;
    waiting: RefundRow[];
    recent: RefundRow[];
    findings: Awaited<ReturnType<typeof reconciliationFindings>>;
    paidOrders: OrderRow[];
  }
> = (p) => {
  const { ctx, waiting, recent, findings, paidOrders } = p;
  return (
    <Layout ctx={ctx} title="Refunds">
      <h1>Refunds</h1>
      <StaffNav />
      <h2>Awaiting a second staff member's approval</h2>
      <RefundRows rows={waiting} ctx={ctx} staffId={p.staffId} people={p.people} />
      <h2>Reconciliation findings</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Finding</th>
              <th>Attempt</th>
              <th>Gateway session</th>
              <th>Order</th>
              <th>Invoice status</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {findings.map((f) => (
              <tr data-testid="staff-finding">
                <td>{f.finding}</td>
                <td>
                  {f.attempt.id} <Status status={f.attempt.status} />
                </td>
                <td>{f.attempt.gatewaySessionId ?? '—'}</td>
                <td>
                  <a href={`/staff/orders/${f.orderId}`}>{f.orderId}</a>
                </td>
                <td>
                  <Status status={f.invoiceStatus} />
                </td>
                <td>{formatWhen(f.attempt.updatedAt, 'second')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Paid orders (refund from the order's page)</h2>
      <ul>
        {paidOrders.map((o) => (
          <li data-testid="staff-paid-order">
            <a href={`/staff/orders/${o.id}`}>{o.id}</a> <Status status={o.status} />{' '}
            {showMoney(o.totalMinor, o.currency)}
          </li>
        ))}
      </ul>
      <h2 id="all-refunds">All refunds</h2>
      <ListFilters
        action="/staff/refunds"
        params={p.params}
        statuses={p.statuses}
        searchHint="Refund, order, invoice, gateway session or gateway refund id, customer e-mail."
      />
      <Pager newer={p.newer} older={p.older} shown={recent.length} limit={p.params.limit} />
      <RefundRows rows={recent} ctx={ctx} staffId={p.staffId} people={p.people} />
      <Pager newer={p.newer} older={p.older} shown={recent.length} limit={p.params.limit} />
    </Layout>
  );
};
