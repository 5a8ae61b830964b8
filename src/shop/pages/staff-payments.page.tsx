// The staff console's payments page: the verified webhook deliveries with their verdict and reason,
// apart from them the deliveries refused before verification (counts per reason, samples, this
// minute's senders) so that no flood of forgeries pushes a genuine delivery off the page, and every
// payment attempt with its gateway session.
import type { FC } from 'hono/jsx';
import type { ListPage } from '../storage/keyset.ts';
import type { AttemptRow, ReceiptRow } from '../storage/payments.ts';
import type { refusalOverview } from '../storage/webhook-refusals.ts';
import { formatWhen } from './format.ts';
import { Layout, Status, type PageCtx } from './layout.tsx';
import { ReceiptTable } from './staff-lists.page.tsx';
import { StaffNav } from './staff.page.tsx';

type Refused = Awaited<ReturnType<typeof refusalOverview>>;

/** GET /staff/payments. */
export const StaffPaymentsPage: FC<{
  ctx: PageCtx;
  receipts: ListPage<ReceiptRow>;
  attempts: ListPage<AttemptRow>;
  refused: Refused;
  /** Days receipts are kept (SHOP_WEBHOOK_RECEIPT_RETENTION_DAYS). */
  receiptDays?: number | undefined;
}> = ({ ctx, receipts, attempts, refused, receiptDays }) => (
  <Layout ctx={ctx} title="Payments">
    <h1>Payments</h1>
    <StaffNav />
    <ReceiptsSection receipts={receipts} days={receiptDays} />
    <RefusedSection refused={refused} />
    <AttemptsSection attempts={attempts} />
  </Layout>
);

/** The newest verified webhook deliveries with their verdict and reason; the rest on their own paged list. */
const ReceiptsSection: FC<{ receipts: ListPage<ReceiptRow>; days: number | undefined }> = ({ receipts, days }) => (
  <>
    <h2>Webhooks received (verified)</h2>
    <p>
      The newest {receipts.rows.length}.{' '}
      <a href="/staff/payments/webhooks" data-testid="all-webhooks">
        {days === undefined ? 'All webhooks' : `All webhooks of the last ${days} days`}: search, filter, older pages →
      </a>
    </p>
    <div class="table-wrap">
      <ReceiptTable rows={receipts.rows} />
    </div>
  </>
);

/** The deliveries refused before verification: counts per reason, this minute's senders, samples. */
const RefusedSection: FC<{ refused: Refused }> = ({ refused }) => (
  <>
    <h2>Refused before verification</h2>
    <p>
      Deliveries without a valid signature are counted per hour and reason, not kept one by one; the first few of each
      hour and reason are kept as samples.
    </p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Reason</th>
            <th class="num">Last 24 h</th>
            <th class="num">Kept period</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {refused.counts.map((r) => (
            <tr data-testid="webhook-refusal-count" data-reason={r.reason}>
              <td>{r.reason}</td>
              <td class="num">{r.lastDay}</td>
              <td class="num">{r.total}</td>
              <td>{formatWhen(r.lastAt, 'second')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <h3>Senders this minute</h3>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Address (last seen in its slot)</th>
            <th class="num">Refused this minute</th>
          </tr>
        </thead>
        <tbody>
          {refused.senders.map((s) => (
            <tr data-testid="webhook-refusal-sender">
              <td>{s.lastAddress}</td>
              <td class="num">{s.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <h3>Samples</h3>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Received</th>
            <th>Reason</th>
            <th>Address</th>
            <th>Headers</th>
            <th>Body (truncated)</th>
          </tr>
        </thead>
        <tbody>
          {refused.samples.map((s) => (
            <tr data-testid="webhook-refusal-sample">
              <td>{formatWhen(s.receivedAt, 'second')}</td>
              <td>{s.reason}</td>
              <td>{s.address}</td>
              <td>
                <code>{JSON.stringify(s.headers)}</code>
              </td>
              <td>
                <code>{s.body}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </>
);

/** The newest payment attempts with their gateway session; the rest on their own paged list. */
const AttemptsSection: FC<{ attempts: ListPage<AttemptRow> }> = ({ attempts }) => (
  <>
    <h2>Payment attempts</h2>
    <p>
      The newest {attempts.rows.length}.{' '}
      <a href="/staff/payments/attempts" data-testid="all-attempts">
        All attempts: search, filter, older pages →
      </a>
    </p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Attempt</th>
            <th>Invoice</th>
            <th>Gateway session</th>
            <th>Status</th>
            <th>Reason</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {attempts.rows.map((a) => (
            <tr data-testid="staff-attempt">
              <td>{a.id}</td>
              <td>
                <a href={`/invoices/${a.invoiceId}`}>{a.invoiceId}</a>
              </td>
              <td>{a.gatewaySessionId ?? '—'}</td>
              <td>
                <Status status={a.status} />
              </td>
              <td>{a.reason ?? ''}</td>
              <td>{formatWhen(a.updatedAt, 'second')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </>
);
