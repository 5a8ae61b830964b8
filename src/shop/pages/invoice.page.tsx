// The invoice page: its facts, what the customer can do now (pay, wait, or get a new invoice), what
// happened to the last payment, and its payment attempts. While it is open, /assets/invoice.js keeps
// everything inside #invoice-live up to date by itself (it re-reads this page and swaps that block).
import type { InvoiceStatus } from '../domain/invoice.machine.ts';
import type { AttemptRow } from '../storage/payments.ts';
import type { InvoiceRow } from '../storage/orders.ts';
import { formatWhen } from './format.ts';
import { CsrfField, Layout, Notice, Status, showMoney, type PageCtx } from './layout.tsx';
import { ATTEMPT_WORDS, attemptOutcome, invoiceNumber } from './words.ts';

export interface InvoicePageProps {
  ctx: PageCtx;
  inv: InvoiceRow;
  /** The order's number and this invoice's place among the order's invoices (1 for the first). */
  orderNumber: number;
  position: number;
  /** The status as shown now (an open invoice past its time shows as expired). */
  status: InvoiceStatus;
  /** Newest first. */
  attempts: readonly AttemptRow[];
  /** The payment service could not be asked about this invoice. */
  paymentUnavailable: boolean;
  /** The customer just asked the payment service ("Check payment status"). */
  checked?: boolean;
}

/** Whether the invoice can still be paid, in words. */
function payable(inv: InvoiceRow, status: InvoiceStatus): string {
  switch (status) {
    case 'open':
      return `Yes, until ${formatWhen(inv.expiresAt)}`;
    case 'paid':
      return `Already paid${inv.paidAt ? ` on ${formatWhen(inv.paidAt)}` : ''}`;
    case 'refunded':
      return 'Already paid (since refunded)';
    case 'disputed':
    case 'dispute_lost':
      return 'Already paid (the payment was disputed)';
    case 'expired':
      return `No: it expired at ${formatWhen(inv.expiresAt)}`;
    case 'voided':
      return 'No: it was replaced by a new invoice';
    default:
      return 'No: the order was cancelled';
  }
}

/** The sentence for the invoice as it stands (the latest attempt's outcome aside). */
function stateSentence(p: InvoicePageProps, inProgress: boolean): string {
  switch (p.status) {
    case 'open':
      if (inProgress) return 'Your payment is being processed. You need do nothing: this page updates by itself.';
      return p.attempts.length
        ? 'This invoice can still be paid; this page updates by itself.'
        : 'This invoice is waiting for payment. Press "Pay now" to pay by card; this page updates by itself.';
    case 'paid':
      return 'Paid — thank you.';
    case 'refunded':
      return 'This payment was refunded.';
    case 'disputed':
      return 'This payment is disputed with your card issuer; the order is on hold until it decides.';
    case 'dispute_lost':
      return 'This payment was disputed and the amount went back to your card.';
    case 'expired':
      return 'This invoice expired unpaid. Open the order to get a new one.';
    case 'voided':
      return 'This invoice was replaced by a new one when the order changed; any payment page opened for it was closed. Open the order to pay the new invoice.';
    default:
      return 'This order was cancelled.';
  }
}

const Facts = ({ p, inProgress }: { p: InvoicePageProps; inProgress: boolean }) => (
  <div class="card">
    <dl class="facts">
      <dt>Status</dt>
      <dd>
        <span
          id="invoice-status"
          data-invoice={p.inv.id}
          data-order={p.inv.orderId}
          data-status={p.status}
          data-in-progress={inProgress ? 'true' : 'false'}
        >
          <Status status={p.status} testid="invoice-status" />
        </span>
      </dd>
      <dt>Amount</dt>
      <dd class="price" data-testid="invoice-amount">
        {showMoney(p.inv.amountMinor, p.inv.currency)}
      </dd>
      <dt>Issued</dt>
      <dd>{formatWhen(p.inv.createdAt)}</dd>
      <dt>Can be paid</dt>
      <dd data-testid="invoice-valid">{payable(p.inv, p.status)}</dd>
      <dt>Order</dt>
      <dd>
        <a href={`/orders/${p.inv.orderId}`} data-testid="invoice-order">
          Order {p.orderNumber}
        </a>
      </dd>
    </dl>
  </div>
);

const PaymentCard = ({ p, inProgress }: { p: InvoicePageProps; inProgress: boolean }) => {
  const outcome = p.status === 'open' ? attemptOutcome(p.attempts[0]) : undefined;
  return (
    <div class="card">
      {p.paymentUnavailable ? (
        <Notice kind="error">The payment service could not be reached. Please try again in a moment.</Notice>
      ) : p.checked ? (
        <Notice kind="ok">
          <span data-testid="payment-checked">
            Checked with the payment service just now:{' '}
            {p.status === 'open' ? (outcome?.text ?? 'no payment has arrived yet.') : stateSentence(p, false)}
          </span>
        </Notice>
      ) : null}
      {outcome && outcome.kind === 'bad' ? (
        <Notice kind="error">
          <span data-testid="payment-outcome">{outcome.text}</span>
        </Notice>
      ) : null}
      <p id="payment-message" data-testid="payment-message">
        {stateSentence(p, inProgress)}{' '}
        {p.status === 'paid' ? <a href={`/orders/${p.inv.orderId}/receipt`}>See the receipt</a> : null}
        {p.status !== 'open' && p.status !== 'paid' ? <a href={`/orders/${p.inv.orderId}`}>Open the order</a> : null}
      </p>
      {p.status === 'open' && !inProgress && p.ctx.user?.id === p.inv.userId ? (
        <form id="pay-actions" method="post" action={`/orders/${p.inv.orderId}/pay`} class="actions">
          <CsrfField token={p.ctx.csrf} />
          <button type="submit">{p.attempts.length ? 'Pay now (try again)' : 'Pay now'}</button>
        </form>
      ) : null}
    </div>
  );
};

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
          {attempts.map((a, i) => (
            <tr data-testid="attempt-row">
              <td>{attempts.length - i}</td>
              <td>{formatWhen(a.createdAt)}</td>
              <td data-testid="attempt-status">{ATTEMPT_WORDS[a.status] ?? a.status.replace('_', ' ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </>
);

/** One invoice, for its owner or staff. */
export const InvoicePage = (p: InvoicePageProps) => {
  const inProgress = p.status === 'open' && p.attempts[0]?.status === 'pending';
  const number = invoiceNumber(p.orderNumber, p.position);
  return (
    <Layout ctx={p.ctx} title={`Invoice ${number}`}>
      <h1>
        Invoice <span data-testid="invoice-number">{number}</span>
      </h1>
      <div id="invoice-live">
        <div class="two">
          <Facts p={p} inProgress={inProgress} />
          <PaymentCard p={p} inProgress={inProgress} />
        </div>
        {p.attempts.length ? <Attempts attempts={p.attempts} /> : null}
      </div>
      {p.status === 'open' ? <script src="/assets/invoice.js" defer></script> : null}
    </Layout>
  );
};
