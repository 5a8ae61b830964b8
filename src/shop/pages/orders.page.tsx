// The customer's order pages: the list of their orders, one order with its invoices (and, while it is
// unpaid, "Pay now" and the delivery change), and the receipt of a paid order.
import { countryName } from '../domain/countries.ts';
import type { Child } from 'hono/jsx';
import type { DeliveryOption } from '../domain/checkout.ts';
import { shownInvoiceStatus, type InvoiceRow, type OrderDetail, type OrderRow } from '../storage/orders.ts';
import { formatWhen } from './format.ts';
import { Pager } from './staff-list.tsx';
import { invoiceNumber, orderLabel } from './words.ts';
import { CsrfField, Layout, Notice, Status, showMoney, type PageCtx } from './layout.tsx';

/** The order's lines with subtotal, delivery and total (order page and receipt). */
export const OrderLines = ({ d }: { d: OrderDetail }) => (
  <div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th>Product</th>
          <th class="num">Price</th>
          <th class="num">Quantity</th>
          <th class="num">Total</th>
        </tr>
      </thead>
      <tbody>
        {d.lines.map((l) => (
          <tr data-testid="order-line">
            <td>
              <a href={`/products/${l.productId}`}>{l.name}</a>
            </td>
            <td class="num">{showMoney(l.unitPriceMinor, l.currency)}</td>
            <td class="num">{l.quantity}</td>
            <td class="num">{showMoney(l.lineTotalMinor, l.currency)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td colspan={3}>Subtotal</td>
          <td class="num">{showMoney(d.order.subtotalMinor, d.order.currency)}</td>
        </tr>
        <tr>
          <td colspan={3}>Delivery: {d.order.deliveryName}</td>
          <td class="num">{showMoney(d.order.deliveryMinor, d.order.currency)}</td>
        </tr>
        <tr>
          <td colspan={3}>Total</td>
          <td class="num" data-testid="order-total">
            {showMoney(d.order.totalMinor, d.order.currency)}
          </td>
        </tr>
      </tfoot>
    </table>
  </div>
);

/** "My orders": each order with its latest invoice; "Check payment status" while one is open and a gateway is configured. */
export const OrdersPage = (p: {
  ctx: PageCtx;
  rows: ReadonlyArray<{ order: OrderRow; latestInvoice: InvoiceRow | undefined; invoiceCount: number }>;
  /** Links to the next older and newer pages, when there are any. */
  older?: string | undefined;
  newer?: string | undefined;
  limit: number;
  now: Date;
  canCheckPayment: boolean;
}) => (
  <Layout ctx={p.ctx} title="My orders">
    <h1>My orders</h1>
    {p.rows.length === 0 && !p.newer ? (
      <p>
        No orders yet. <a href="/">Browse the catalog</a>.
      </p>
    ) : (
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Order</th>
              <th>Placed</th>
              <th>Status</th>
              <th>Invoice</th>
              <th class="num">Total</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {p.rows.map(({ order, latestInvoice, invoiceCount }) => (
              <tr data-testid="order-row">
                <td>
                  <a href={`/orders/${order.id}`}>{orderLabel(order)}</a>
                </td>
                <td>{formatWhen(order.createdAt)}</td>
                <td>
                  <Status status={order.status} />
                </td>
                <td>
                  {latestInvoice ? (
                    <>
                      <a href={`/invoices/${latestInvoice.id}`}>{invoiceNumber(order.number, invoiceCount)}</a>{' '}
                      <Status status={shownInvoiceStatus(latestInvoice, p.now)} />
                    </>
                  ) : (
                    <span class="muted">none yet</span>
                  )}
                </td>
                <td class="num">{showMoney(order.totalMinor, order.currency)}</td>
                <td>
                  {latestInvoice && latestInvoice.status === 'open' && p.canCheckPayment ? (
                    <form method="post" action={`/orders/${order.id}/check-payment`} class="inline-form">
                      <CsrfField token={p.ctx.csrf} />
                      <button class="secondary" type="submit">
                        Check payment status
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
    {p.older || p.newer ? <Pager older={p.older} newer={p.newer} shown={p.rows.length} limit={p.limit} /> : null}
  </Layout>
);

const ShipTo = ({ d }: { d: OrderDetail }) => (
  <div class="card">
    <h2>Ship to</h2>
    <p>
      {d.order.address.fullName}
      <br />
      {d.order.address.line1}
      {d.order.address.line2 ? (
        <>
          <br />
          {d.order.address.line2}
        </>
      ) : null}
      <br />
      {d.order.address.postalCode} {d.order.address.city}
      <br />
      {countryName(d.order.address.country)}
    </p>
    {WAS_PAID.includes(d.order.status) ? <a href={`/orders/${d.order.id}/receipt`}>Receipt</a> : null}
  </div>
);

/** "Pay now" and the delivery change, for the owner of an unpaid order. */
const UnpaidActions = ({ d, csrf, methods }: { d: OrderDetail; csrf: string; methods: readonly DeliveryOption[] }) => (
  <div class="actions">
    <form method="post" action={`/orders/${d.order.id}/pay`}>
      <CsrfField token={csrf} />
      <button type="submit">Pay now</button>
    </form>
    <form method="post" action={`/orders/${d.order.id}/delivery`} class="inline-form">
      <CsrfField token={csrf} />
      <label for="delivery-change">Delivery</label>
      <select id="delivery-change" name="deliveryMethodId">
        {methods.map((m) => (
          <option value={m.id} selected={m.id === d.order.deliveryMethodId}>
            {m.name} ({showMoney(m.price.minor, m.price.currency)})
          </option>
        ))}
      </select>
      <button class="secondary" type="submit">
        Change delivery
      </button>
    </form>
  </div>
);

/** Order and invoice statuses that had a payment taken, so a receipt exists. */
const WAS_PAID: readonly string[] = ['paid', 'refunded', 'disputed', 'dispute_lost'];

/** What the owner is told while their payment is disputed, and when the dispute was decided for them. */
const DisputeNotice = ({ status }: { status: string }) =>
  status === 'disputed' ? (
    <Notice>
      <span data-testid="order-dispute-notice">
        Your card issuer told us that this payment is disputed. The shop answers the dispute; the order is on hold until
        the card issuer decides.
      </span>
    </Notice>
  ) : status === 'dispute_lost' ? (
    <Notice>
      <span data-testid="order-dispute-notice">
        The dispute of this payment was decided in your favour: the amount went back to your card.
      </span>
    </Notice>
  ) : null;

const InvoiceTable = ({
  invoices,
  orderNumber,
  now,
}: {
  invoices: readonly InvoiceRow[];
  orderNumber: number;
  now: Date;
}) => (
  <div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th>Invoice</th>
          <th>Created</th>
          <th>Valid until</th>
          <th>Status</th>
          <th class="num">Amount</th>
        </tr>
      </thead>
      <tbody>
        {invoices.map((inv, i) => (
          <tr data-testid="invoice-row">
            <td>
              <a href={`/invoices/${inv.id}`}>{invoiceNumber(orderNumber, invoices.length - i)}</a>
            </td>
            <td>{formatWhen(inv.createdAt)}</td>
            <td>{formatWhen(inv.expiresAt)}</td>
            <td>
              <Status status={shownInvoiceStatus(inv, now)} />
            </td>
            <td class="num">{showMoney(inv.amountMinor, inv.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

/**
 * One order: lines, address, invoices; its owner may pay or change the delivery while it is unpaid.
 * `notices` is what the shop told the owner about the order's refunds.
 */
export const OrderPage = (p: {
  ctx: PageCtx;
  d: OrderDetail;
  methods: readonly DeliveryOption[];
  now: Date;
  error?: string | undefined;
  notices?: Child;
}) => {
  const { d } = p;
  const ownerView = p.ctx.user?.id === d.order.userId;
  return (
    <Layout ctx={p.ctx} title={orderLabel(d.order)}>
      <h1>
        Order <span data-testid="order-number">{d.order.number}</span>
      </h1>
      <p>
        <Status status={d.order.status} testid="order-status" />{' '}
        <span class="muted">placed {formatWhen(d.order.createdAt)}</span>
      </p>
      {p.error ? <Notice kind="error">{p.error}</Notice> : null}
      <DisputeNotice status={d.order.status} />
      <div class="two">
        <OrderLines d={d} />
        <ShipTo d={d} />
      </div>
      {ownerView && d.order.status === 'awaiting_payment' ? (
        <UnpaidActions d={d} csrf={p.ctx.csrf} methods={p.methods} />
      ) : null}
      {p.notices}
      <h2>Invoices</h2>
      <InvoiceTable invoices={d.invoices} orderNumber={d.order.number} now={p.now} />
    </Layout>
  );
};

/** The receipt of a paid (or refunded) order; before payment, a note saying there is none yet. */
export const ReceiptPage = ({ ctx, d }: { ctx: PageCtx; d: OrderDetail }) => {
  const paid = d.invoices.find((i) => WAS_PAID.includes(i.status));
  return (
    <Layout ctx={ctx} title="Receipt">
      <h1>Receipt</h1>
      {paid && WAS_PAID.includes(d.order.status) ? (
        <>
          <dl class="facts card">
            <dt>Order</dt>
            <dd>{d.order.number}</dd>
            <dt>Invoice</dt>
            <dd>{invoiceNumber(d.order.number, d.invoices.length - d.invoices.indexOf(paid))}</dd>
            <dt>Paid</dt>
            <dd>{paid.paidAt ? formatWhen(paid.paidAt) : ''}</dd>
            <dt>Amount</dt>
            <dd data-testid="receipt-amount">{showMoney(paid.amountMinor, paid.currency)}</dd>
            <dt>Status</dt>
            <dd>
              <Status status={d.order.status} />
            </dd>
          </dl>
          <h2>Items</h2>
          <OrderLines d={d} />
          <p>
            <a href={`/orders/${d.order.id}/receipt.pdf`} data-testid="receipt-pdf">
              Download the receipt (PDF)
            </a>
          </p>
        </>
      ) : (
        <p data-testid="no-receipt">
          No receipt yet: this order has not been paid. <a href={`/orders/${d.order.id}`}>Back to the order</a>.
        </p>
      )}
    </Layout>
  );
};
