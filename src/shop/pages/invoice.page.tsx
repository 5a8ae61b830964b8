// The invoice page: its facts, what the customer can do now (pay, wait, or get a new invoice), and
// its payment attempts. While it is open, /assets/invoice.js keeps it up to date by itself.
import type { InvoiceStatus } from '../domain/invoice.machine.ts';
import type { AttemptRow } from '../storage/payments.ts';
import type { InvoiceRow } from '../storage/orders.ts';
import { formatWhen } from './format.ts';
import { CsrfField, Layout, Notice, Status, showMoney, type PageCtx } from './layout.tsx';

export interface InvoicePageProps {
  ctx: PageCtx;
  inv: InvoiceRow;
  /** The status as shown now (an open invoice past its time shows as expired). */
  status: InvoiceStatus;
  attempts: readonly AttemptRow[];
  /** The payment service could not be asked about this invoice. */
  paymentUnavailable: boolean;
}

const Facts = ({ inv, status, inProgress }: { inv: InvoiceRow; status: InvoiceStatus; inProgress: boolean }) => (
  <div class="card">
    <dl class="facts">
      <dt>Status</dt>
      <dd>
        <span
          id="invoice-status"
          data-invoice={inv.id}
          data-order={inv.orderId}
          data-status={status}
          data-in-progress={inProgress ? 'true' : 'false'}
        >
          <Status status={status} testid="invoice-status" />
        </span>
      </dd>
      <dt>Amount</dt>
      <dd class="price" data-testid="invoice-amount">
        {showMoney(inv.amountMinor, inv.currency)}
      </dd>
      <dt>Currency</dt>
      <dd>{inv.currency}</dd>
      <dt>Created</dt>
      <dd>{formatWhen(inv.createdAt)}</dd>
      <dt>Valid until</dt>
      <dd>{formatWhen(inv.expiresAt)}</dd>
      <dt>Valid</dt>
      <dd data-testid="invoice-valid">{status === 'open' ? 'yes' : 'no'}</dd>
      <dt>Order</dt>
      <dd>
        <a href={`/orders/${inv.orderId}`}>{inv.orderId}</a>
      </dd>
    </dl>
  </div>
);

const PaymentCard = ({ p, inProgress }: { p: InvoicePageProps; inProgress: boolean }) => (
  <div class="card">
    {p.paymentUnavailable ? (
      <Notice kind="error">The payment service could not be reached. Please try again in a moment.</Notice>
    ) : null}
    {p.status === 'open' ? (
      <>
        <p id="payment-message" data-testid="payment-message">
          {inProgress
            ? 'Your payment is being processed. This page updates by itself.'
            : 'This invoice is waiting for payment. This page updates by itself when the payment arrives.'}
        </p>
        {p.ctx.user?.id === p.inv.userId ? (
          <form id="pay-actions" method="post" action={`/orders/${p.inv.orderId}/pay`} class="actions">
            <CsrfField token={p.ctx.csrf} />
            <button type="submit">{p.attempts.length ? 'Pay now (try again)' : 'Pay now'}</button>
          </form>
        ) : null}
      </>
    ) : p.status === 'paid' ? (
      <p id="payment-message" data-testid="payment-message">
        Paid — thank you. <a href={`/orders/${p.inv.orderId}/receipt`}>See the receipt</a>.
      </p>
    ) : (
      <p id="payment-message" data-testid="payment-message">
        This invoice can no longer be paid. <a href={`/orders/${p.inv.orderId}`}>Open the order</a> to get a new one.
      </p>
    )}
  </div>
);

const Attempts = ({ attempts }: { attempts: readonly AttemptRow[] }) => (
  <>
    <h2>Payment attempts</h2>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Attempt</th>
            <th>Started</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a) => (
            <tr data-testid="attempt-row">
              <td>{a.id}</td>
              <td>{formatWhen(a.createdAt)}</td>
              <td>
                <Status status={a.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </>
);

/** One invoice, for its owner or staff. */
export const InvoicePage = (p: InvoicePageProps) => {
  const inProgress = p.status === 'open' && p.attempts.some((a) => a.status === 'pending');
  return (
    <Layout ctx={p.ctx} title={`Invoice ${p.inv.id}`}>
      <h1>
        Invoice <span data-testid="invoice-id">{p.inv.id}</span>
      </h1>
      <div class="two">
        <Facts inv={p.inv} status={p.status} inProgress={inProgress} />
        <PaymentCard p={p} inProgress={inProgress} />
      </div>
      {p.attempts.length ? <Attempts attempts={p.attempts} /> : null}
      {p.status === 'open' ? <script src="/assets/invoice.js" defer></script> : null}
    </Layout>
  );
};
