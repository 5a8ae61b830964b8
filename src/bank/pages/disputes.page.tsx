// The bank app's disputes page: the cardholder's captured payments, each with a form to dispute it
// (reason from the list, amount up to what was captured and not refunded), and their disputes with
// their status and a withdraw button while undecided. Plain forms with the session's CSRF token.
import { formatMoney, parseCurrency, toDecimalString } from '../../core/money.ts';
import { DISPUTE_REASON_TEXT, DISPUTE_REASONS } from '../domain/dispute.machine.ts';
import { Layout } from './layout.tsx';

export interface DisputablePayment {
  id: string;
  merchantName: string;
  description: string;
  cardLast4: string;
  currency: string;
  capturedMinor: bigint;
  refundedMinor: bigint;
  createdAt: Date;
  disputeId: string | null;
}

export interface DisputeItem {
  id: string;
  status: string;
  reason: string;
  amountMinor: bigint;
  currency: string;
  evidenceDueBy: Date;
  decidedBy: string | null;
  merchantName: string;
}

const fmt = (minor: bigint, currency: string) => formatMoney({ minor, currency: parseCurrency(currency) });

const STATUS_TEXT: Record<string, string> = {
  open: 'Open: waiting for the merchant',
  under_review: 'Under review: the merchant sent evidence',
  won: 'Closed: decided for the merchant (your credit was reversed)',
  lost: 'Closed: decided in your favour (your credit stands)',
};

function PaymentRow(props: { p: DisputablePayment; csrf: string }) {
  const { p } = props;
  const open = p.capturedMinor - p.refundedMinor;
  return (
    <li data-payment-id={p.id}>
      <span>
        {p.merchantName} · {fmt(open, p.currency)}
        <br />
        <span class="meta">
          {p.description ? `${p.description} · ` : ''}card •••• {p.cardLast4} · {p.createdAt.toISOString().slice(0, 10)}
        </span>
      </span>
      {p.disputeId ? (
        <span class="meta">disputed</span>
      ) : (
        <form method="post" action="/app/disputes" class="dispute-form">
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name="authorization_id" value={p.id} />
          <select name="reason" aria-label="Reason">
            {DISPUTE_REASONS.map((r) => (
              <option value={r}>{DISPUTE_REASON_TEXT[r]}</option>
            ))}
          </select>
          <input
            name="amount"
            aria-label="Amount"
            inputmode="decimal"
            size={8}
            value={toDecimalString({ minor: open, currency: parseCurrency(p.currency) })}
          />
          <button type="submit">Dispute</button>
        </form>
      )}
    </li>
  );
}

function DisputeRow(props: { d: DisputeItem; csrf: string }) {
  const { d } = props;
  const undecided = d.status === 'open' || d.status === 'under_review';
  return (
    <li data-dispute-id={d.id} data-status={d.status}>
      <span>
        {d.merchantName} · {fmt(d.amountMinor, d.currency)}
        <br />
        <span class="meta">
          {DISPUTE_REASON_TEXT[d.reason as keyof typeof DISPUTE_REASON_TEXT] ?? d.reason} ·{' '}
          <span class="status">{STATUS_TEXT[d.status] ?? d.status}</span>
          {undecided ? ` · decided by ${d.evidenceDueBy.toISOString().replace('T', ' ').slice(0, 16)} UTC` : ''}
        </span>
      </span>
      {undecided ? (
        <form method="post" action={`/app/disputes/${d.id}/withdraw`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit" class="withdraw">
            Withdraw
          </button>
        </form>
      ) : null}
    </li>
  );
}

/** The disputes page. */
export function DisputesPage(props: {
  name: string;
  csrf: string;
  payments: DisputablePayment[];
  disputes: DisputeItem[];
  notice?: string | undefined;
  nonce: string;
}) {
  return (
    <Layout title="countersign bank · disputes" nonce={props.nonce}>
      <header>
        <h1>Disputes</h1>
        <a href="/app">Back to your account</a>
      </header>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      <h2>Your disputes</h2>
      <ul class="list" id="disputes">
        {props.disputes.map((d) => (
          <DisputeRow d={d} csrf={props.csrf} />
        ))}
      </ul>
      {props.disputes.length === 0 ? <p class="empty">You have not disputed any payment.</p> : null}
      <h2>Payments you can dispute</h2>
      <p class="meta">
        Dispute a payment you did not make or did not get what you paid for. You are credited the amount at once,
        provisionally; the merchant may answer, and the bank decides.
      </p>
      <ul class="list" id="payments">
        {props.payments.map((p) => (
          <PaymentRow p={p} csrf={props.csrf} />
        ))}
      </ul>
      {props.payments.length === 0 ? <p class="empty">No captured payments.</p> : null}
    </Layout>
  );
}
