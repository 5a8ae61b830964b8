// The staff console's order page: its invoices with every payment attempt and every webhook received
// with its verdict, its refunds (request one; approve or reject one awaiting a second staff member),
// the integration deliveries of its status changes and its audit trail.
import { CUSTOMER_REFUND_REASONS } from '../domain/refund.rule.ts';
import { MailStatus, type MailView } from '../mail/mail-status.tsx';
import { randomBytes } from 'node:crypto';
import type { FC } from 'hono/jsx';
import type { auditTrailForOrder } from '../storage/audit.ts';
import type { DeliveryRow } from '../storage/integration-deliveries.ts';
import type { OrderDetail } from '../storage/orders.ts';
import type { AttemptRow, ReceiptRow } from '../storage/payments.ts';
import type { RefundRow } from '../storage/refunds.ts';
import type { Person } from '../storage/staff-payment-lists.ts';
import { formatWhen } from './format.ts';
import { CsrfField, Layout, Notice, Status, showMoney, type PageCtx } from './layout.tsx';
import { ReceiptTable, receiptsKept } from './staff-lists.page.tsx';
import type { RetentionConfig } from '../jobs/retention.ts';
import { personLabel } from './staff-list.tsx';
import { RefundRows } from './staff-refunds.page.tsx';
import type { DisputeRow } from '../storage/disputes.ts';
import { DisputeSection } from './staff-disputes.page.tsx';
import { StaffNav } from './staff.page.tsx';

/** What the refund form shows again after a refusal (or the notice after a success). */
export interface RefundForm {
  readonly values: Record<string, string>;
  readonly error?: string;
  readonly done?: string;
}

/** Everything the staff order page shows. */
export interface StaffOrderView {
  readonly ctx: PageCtx;
  readonly staffId: string;
  readonly orderId: string;
  readonly detail: OrderDetail;
  readonly ownerEmail: string | undefined;
  /** The accounts behind the staff ids of refunds and audit entries. */
  readonly people: ReadonlyMap<string, Person>;
  readonly attempts: AttemptRow[];
  readonly receipts: ReceiptRow[];
  readonly refundRows: RefundRow[];
  readonly audit: Awaited<ReturnType<typeof auditTrailForOrder>>;
  readonly deliveries: DeliveryRow[];
  readonly mails: readonly MailView[];
  readonly paid: OrderDetail['invoices'][number] | undefined;
  readonly refundable: bigint;
  readonly threshold: bigint;
  readonly form?: RefundForm | undefined;
  readonly disputes: readonly DisputeRow[];
  readonly now: Date;
  /** How long receipts and delivered integration events stay listed (the shop's retention). */
  readonly retention?: RetentionConfig | undefined;
}

/** GET /staff/orders/:id. */
export const StaffOrderPage: FC<StaffOrderView> = (p) => {
  const { ctx, orderId, detail, attempts, receipts, refundRows, deliveries, mails } = p;
  const owner = { email: p.ownerEmail };
  return (
    <Layout ctx={ctx} title={`Order ${orderId}`}>
      <h1>
        Order #{detail.order.number} <span class="muted id">{orderId}</span>
      </h1>
      <StaffNav />
      <p>
        <Status status={detail.order.status} testid="staff-order-status" /> · {owner?.email} · total{' '}
        {showMoney(detail.order.totalMinor, detail.order.currency)} · <a href={`/orders/${orderId}`}>customer view</a> ·{' '}
        <a href="/staff/refunds">refunds</a> · <a href={`/staff/orders/${orderId}/journey`}>payment journey</a>
      </p>
      {p.form?.done ? <Notice kind="ok">{p.form.done}</Notice> : null}

      <div id="disputes">
        <DisputeSection disputes={p.disputes} ctx={ctx} now={p.now} />
      </div>

      <h2>Invoices and payment attempts</h2>
      {detail.invoices.map((inv) => (
        <InvoiceSection inv={inv} attempts={attempts} receipts={receipts} keptDays={p.retention?.webhookReceiptDays} />
      ))}

      <MailStatus mails={mails} />
      <h2>Refunds</h2>
      <p data-testid="capture-summary">{captureSummary(detail.invoices, refundRows)}</p>
      <RefundRows rows={refundRows} ctx={ctx} staffId={p.staffId} people={p.people} />
      <RefundFormSection {...p} />

      <DeliveriesSection deliveries={deliveries} keptDays={p.retention?.jobDays} />

      <AuditSection audit={p.audit} people={p.people} />
    </Layout>
  );
};

/** One invoice with its payment attempts and the webhooks received for it. */
const InvoiceSection: FC<{
  inv: OrderDetail['invoices'][number];
  attempts: AttemptRow[];
  receipts: ReceiptRow[];
  keptDays: number | undefined;
}> = ({ inv, attempts, receipts, keptDays }) => (
  <section class="card" data-testid="staff-order-invoice">
    <p>
      <a href={`/invoices/${inv.id}`}>{inv.id}</a> <Status status={inv.status} />{' '}
      {showMoney(inv.amountMinor, inv.currency)} · issued {formatWhen(inv.createdAt, 'second')} · expires{' '}
      {formatWhen(inv.expiresAt, 'second')}
    </p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Attempt</th>
            <th>Gateway session</th>
            <th>Status</th>
            <th>Reason</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {attempts
            .filter((a) => a.invoiceId === inv.id)
            .map((a) => (
              <tr data-testid="staff-order-attempt">
                <td>{a.id}</td>
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
    <h3>Webhooks received</h3>
    {keptDays === undefined ? null : <p class="muted">{receiptsKept(keptDays)}</p>}
    <div class="table-wrap">
      <ReceiptTable
        rows={receipts.filter((r) => r.invoiceId === inv.id)}
        testid="staff-order-webhook"
        invoiceColumn={false}
      />
    </div>
  </section>
);

type Invoice = OrderDetail['invoices'][number];

/** What this order's payment came to, in words: captured, refunded (and when), being refunded — or nothing. */
export function captureSummary(invoices: readonly Invoice[], refundRows: readonly RefundRow[]): string {
  const captured = invoices.find((i) => ['paid', 'refunded', 'disputed', 'dispute_lost'].includes(i.status));
  if (!captured) {
    const reversed = invoices.find((i) => i.status === 'reversed');
    return reversed
      ? 'The payment accepted here was voided at the gateway (invoice reversed): nothing is captured.'
      : 'Nothing was captured for this order.';
  }
  const money = (minor: bigint) => showMoney(minor, captured.currency);
  const mine = refundRows.filter((r) => r.invoiceId === captured.id);
  const done = mine.filter((r) => r.status === 'succeeded');
  const refunded = done.reduce((s, r) => s + r.amountMinor, 0n);
  const inFlight = mine
    .filter((r) => r.status === 'awaiting_approval' || r.status === 'pending' || r.status === 'submitted')
    .reduce((s, r) => s + r.amountMinor, 0n);
  const at = captured.paidAt ?? captured.closedAt ?? captured.createdAt;
  const parts = [`Captured ${money(captured.amountMinor)} on ${formatWhen(at)}.`];
  const last = done.reduce<Date | undefined>((m, r) => (m && m > r.updatedAt ? m : r.updatedAt), undefined);
  if (refunded > 0n) {
    const whole = refunded >= captured.amountMinor ? ' in full' : '';
    parts.push(`Refunded ${money(refunded)}${whole}${last ? `, last on ${formatWhen(last)}` : ''}.`);
  } else if (captured.status === 'refunded') parts.push('Refunded in full at the gateway.');
  if (captured.status === 'disputed') parts.push('Disputed by the cardholder: see Disputes.');
  if (captured.status === 'dispute_lost')
    parts.push('A dispute was lost: the disputed amount went back to the cardholder.');
  if (inFlight > 0n) parts.push(`${money(inFlight)} being refunded.`);
  if (refunded > 0n && refunded < captured.amountMinor)
    parts.push(`${money(captured.amountMinor - refunded)} still captured.`);
  return parts.join(' ');
}

/** The refund request form, or why there is nothing to refund. */
const RefundFormSection: FC<StaffOrderView> = (p) => {
  const { ctx, orderId, paid, refundable, threshold } = p;
  return (
    <>
      {paid && refundable > 0n ? (
        <form class="stack card" method="post" action={`/staff/orders/${orderId}/refunds`}>
          <CsrfField token={ctx.csrf} />
          <input type="hidden" name="invoiceId" value={paid.id} />
          <input type="hidden" name="requestKey" value={randomBytes(18).toString('base64url')} />
          {p.form?.error ? <Notice kind="error">{p.form.error}</Notice> : null}
          <p>
            Up to {showMoney(refundable, paid.currency)} can be refunded. Above {showMoney(threshold, paid.currency)} a
            second staff member must approve.
          </p>
          <div class="field">
            <label for="amount">Amount ({paid.currency})</label>
            <input id="amount" name="amount" inputmode="decimal" required value={p.form?.values.amount ?? ''} />
          </div>
          <div class="field">
            <label for="reason">Internal reason (staff only, required)</label>
            <input
              id="reason"
              name="reason"
              required
              minlength={3}
              maxlength={500}
              value={p.form?.values.reason ?? ''}
            />
          </div>
          <div class="field">
            <label for="customerReason">What the customer is told</label>
            <select id="customerReason" name="customerReason" required>
              {Object.entries(CUSTOMER_REFUND_REASONS).map(([code, text]) => (
                <option value={code} selected={(p.form?.values.customerReason ?? 'other') === code}>
                  Refunded {text}
                </option>
              ))}
            </select>
          </div>
          <div class="actions">
            <button type="submit">Refund</button>
          </div>
        </form>
      ) : (
        <p>{paid ? 'Everything captured has been refunded or is being refunded.' : 'Nothing is left to refund.'}</p>
      )}
    </>
  );
};

/** The integration deliveries of the order's status changes. */
const DeliveriesSection: FC<{ deliveries: DeliveryRow[]; keptDays: number | undefined }> = ({
  deliveries,
  keptDays,
}) => (
  <>
    <h2>Integration deliveries</h2>
    {keptDays === undefined ? null : (
      <p class="muted" data-testid="staff-order-deliveries-kept">
        Delivered events are listed for {keptDays} days after their delivery; pending and failed ones stay.
      </p>
    )}
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Event</th>
            <th>Endpoint</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Last error</th>
            <th>Next try</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr data-testid="staff-order-delivery">
              <td>{d.eventId}</td>
              <td>{d.endpoint}</td>
              <td>
                <Status status={d.status} />
              </td>
              <td>{d.attempts}</td>
              <td>{d.lastError ?? ''}</td>
              <td>{d.nextTryAt ? formatWhen(d.nextTryAt, 'second') : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </>
);

/** The order's audit trail; actors by name, long values wrapped to fit the page. */
const AuditSection: FC<{ audit: StaffOrderView['audit']; people: StaffOrderView['people'] }> = ({ audit, people }) => (
  <>
    <h2>Audit trail</h2>
    <p>
      Append-only and hash-chained; <code>npx countersign audit verify</code> verifies the whole chain.
    </p>
    <div class="table-wrap">
      <table class="fit audit" data-testid="audit-table">
        <thead>
          <tr>
            <th>#</th>
            <th>At</th>
            <th>Actor</th>
            <th>Action</th>
            <th>Subject</th>
            <th>Data</th>
            <th>Hash</th>
          </tr>
        </thead>
        <tbody>
          {audit.map((e) => (
            <tr data-testid="staff-order-audit">
              <td>{e.seq}</td>
              <td>{formatWhen(e.at, 'second')}</td>
              <td>{personLabel(e.actor, people)}</td>
              <td>{e.action}</td>
              <td>{e.subject}</td>
              <td>
                <code>{JSON.stringify(e.data)}</code>
              </td>
              <td>
                {/* Sealed into the chain moments after the commit (src/shop/audit/sealer.ts). */}
                {e.hash ? <code title={e.hash}>{e.hash.slice(0, 12)}…</code> : <em>sealing</em>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </>
);
