// The staff console's paged lists: orders, invoices, accounts, payment attempts and verified webhook
// deliveries, each with its search box, filters and "Newer" / "Older" links.
import type { Child, FC } from 'hono/jsx';
import type { ListParams } from '../routes/staff-list-query.ts';
import { shownInvoiceStatus, type InvoiceRow, type OrderRow } from '../storage/orders.ts';
import type { AttemptRow, ReceiptRow } from '../storage/payments.ts';
import { formatWhen } from './format.ts';
import { Layout, Status, showMoney, type PageCtx } from './layout.tsx';
import { ListFilters, Pager } from './staff-list.tsx';
import { StaffNav } from './staff.page.tsx';

/** What every list page gets besides its rows. */
export interface ListView {
  readonly ctx: PageCtx;
  readonly params: ListParams;
  readonly statuses: readonly string[];
  readonly newer?: string | undefined;
  readonly older?: string | undefined;
}

/** The frame of a list page: title, navigation, filters, pager above and below the table. */
const ListFrame: FC<
  ListView & {
    title: string;
    path: string;
    hint: string;
    statusLabel?: string;
    shown: number;
    /** What the list holds, when that is not everything ever (a retention). */
    note?: string | undefined;
    children?: Child;
  }
> = (p) => (
  <Layout ctx={p.ctx} title={p.title}>
    <h1>{p.title}</h1>
    <StaffNav />
    {p.note ? <p data-testid="list-note">{p.note}</p> : null}
    <ListFilters
      action={p.path}
      params={p.params}
      statuses={p.statuses}
      searchHint={p.hint}
      statusLabel={p.statusLabel}
    />
    <Pager newer={p.newer} older={p.older} shown={p.shown} limit={p.params.limit} />
    <div class="table-wrap">{p.children}</div>
    <Pager newer={p.newer} older={p.older} shown={p.shown} limit={p.params.limit} />
  </Layout>
);

/** GET /staff/orders: every customer's orders, newest first. */
export const StaffOrdersPage: FC<
  ListView & { rows: ReadonlyArray<{ order: OrderRow; email: string; name: string }> }
> = (p) => (
  <ListFrame
    {...p}
    title="Orders"
    path="/staff/orders"
    shown={p.rows.length}
    hint="Customer e-mail (or part of it), order id or number (#12), invoice id, gateway or Stripe Checkout session id."
  >
    <table>
      <thead>
        <tr>
          <th>Order</th>
          <th>Customer</th>
          <th>Placed</th>
          <th>Status</th>
          <th class="num">Total</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map(({ order, email }) => (
          <tr data-testid="staff-order" data-order={order.id}>
            <td>
              <a href={`/staff/orders/${order.id}`}>#{order.number}</a> <span class="muted id">{order.id}</span>
            </td>
            <td>{email}</td>
            <td>{formatWhen(order.createdAt)}</td>
            <td>
              <Status status={order.status} />
            </td>
            <td class="num">{showMoney(order.totalMinor, order.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </ListFrame>
);

/** GET /staff/invoices: every invoice, newest first, with its owner and its status as shown now. */
export const StaffInvoicesPage: FC<
  ListView & { rows: ReadonlyArray<InvoiceRow & { email: string; orderNumber: number }>; now: Date }
> = (p) => (
  <ListFrame
    {...p}
    title="Invoices"
    path="/staff/invoices"
    shown={p.rows.length}
    hint="Owner e-mail (or part of it), invoice id, order id or number, gateway session id."
  >
    <table>
      <thead>
        <tr>
          <th>Invoice</th>
          <th>Order</th>
          <th>Owner</th>
          <th>Created</th>
          <th>Expires</th>
          <th>Status</th>
          <th class="num">Amount</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((inv) => (
          <tr data-testid="staff-invoice" data-invoice={inv.id}>
            <td>
              <a href={`/invoices/${inv.id}`}>{inv.id}</a>
            </td>
            <td>
              <a href={`/staff/orders/${inv.orderId}`}>#{inv.orderNumber}</a>
            </td>
            <td>{inv.email}</td>
            <td>{formatWhen(inv.createdAt)}</td>
            <td>{formatWhen(inv.expiresAt)}</td>
            <td>
              <Status status={shownInvoiceStatus(inv, p.now)} />
            </td>
            <td class="num">{showMoney(inv.amountMinor, inv.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </ListFrame>
);

/** GET /staff/customers: every account, customers and staff, newest first. */
export const StaffCustomersPage: FC<
  ListView & { rows: ReadonlyArray<{ id: string; name: string; email: string; role: string; createdAt: Date }> }
> = (p) => (
  <ListFrame
    {...p}
    title="Customers"
    path="/staff/customers"
    shown={p.rows.length}
    statusLabel="Role"
    hint="E-mail or name (or part of either), account id."
  >
    <table>
      <thead>
        <tr>
          <th>Name</th>
          <th>Email</th>
          <th>Role</th>
          <th>Since</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((u) => (
          <tr data-testid="staff-customer" data-user={u.id}>
            <td>{u.name}</td>
            <td>{u.email}</td>
            <td>{u.role}</td>
            <td>{formatWhen(u.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </ListFrame>
);

/** GET /staff/payments/attempts: every payment attempt with its gateway session, newest first. */
export const StaffAttemptsPage: FC<ListView & { rows: ReadonlyArray<AttemptRow & { orderId: string }> }> = (p) => (
  <ListFrame
    {...p}
    title="Payment attempts"
    path="/staff/payments/attempts"
    shown={p.rows.length}
    hint="Attempt, invoice, order or gateway session id (Stripe: the Checkout Session id cs_…), customer e-mail."
  >
    <table>
      <thead>
        <tr>
          <th>Attempt</th>
          <th>Invoice</th>
          <th>Gateway session</th>
          <th>Status</th>
          <th>Reason</th>
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((a) => (
          <tr data-testid="staff-attempt" data-attempt={a.id}>
            <td>{a.id}</td>
            <td>
              <a href={`/staff/orders/${a.orderId}`}>{a.invoiceId}</a>
            </td>
            <td>{a.gatewaySessionId ?? '—'}</td>
            <td>
              <Status status={a.status} />
            </td>
            <td>{a.reason ?? ''}</td>
            <td>{formatWhen(a.createdAt, 'second')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </ListFrame>
);

/** What a staff page says of the receipts it lists: kept for the retention, not for ever. */
export const receiptsKept = (days: number | undefined) =>
  days === undefined ? undefined : `Verified deliveries of the last ${days} days; older ones are deleted.`;

/** GET /staff/payments/webhooks: every verified webhook delivery still kept, with its verdict, newest first. */
export const StaffReceiptsPage: FC<ListView & { rows: readonly ReceiptRow[]; keptDays?: number | undefined }> = (p) => (
  <ListFrame
    {...p}
    note={receiptsKept(p.keptDays)}
    title="Webhooks received"
    path="/staff/payments/webhooks"
    shown={p.rows.length}
    statusLabel="Verdict"
    hint="Event id, invoice id, gateway session id, or a type (captured, partially_refunded…)."
  >
    <ReceiptTable rows={p.rows} />
  </ListFrame>
);

/** Verified webhook deliveries: when, which event, its type, the invoice, the verdict and why. */
export const ReceiptTable: FC<{ rows: readonly ReceiptRow[]; testid?: string; invoiceColumn?: boolean }> = ({
  rows,
  testid = 'webhook-receipt',
  invoiceColumn = true,
}) => (
  <table>
    <thead>
      <tr>
        <th>Received</th>
        <th>Event</th>
        <th>Type</th>
        {invoiceColumn ? <th>Invoice</th> : null}
        <th>Verdict</th>
        <th>Reason</th>
      </tr>
    </thead>
    <tbody>
      {rows.map((r) => (
        <tr data-testid={testid}>
          <td>{formatWhen(r.receivedAt, 'second')}</td>
          <td>{r.eventId ?? '—'}</td>
          <td data-testid="webhook-type">{r.eventType ?? ''}</td>
          {invoiceColumn ? <td>{r.invoiceId ? <a href={`/invoices/${r.invoiceId}`}>{r.invoiceId}</a> : ''}</td> : null}
          <td>
            <Status status={r.verdict} />
          </td>
          <td>{r.reason ?? ''}</td>
        </tr>
      ))}
    </tbody>
  </table>
);
