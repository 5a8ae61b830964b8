// Owner-only pages and APIs (seed 002): the order, its invoice, its receipt. Each answers its owner or
// staff; anyone else logged in gets "Access denied" with status 404, exactly as for an id that does
// not exist; an anonymous visitor is sent to log in and then back.
import type { Hono } from 'hono';
import { isDomainError } from '../../core/errors.ts';
import { canView } from '../domain/access.ts';
import { isChangeable } from '../domain/order.machine.ts';
import { CsrfField, Layout, Notice, Status, showMoney, type PageCtx } from '../pages/layout.tsx';
import type { User } from '../storage/accounts.ts';
import { listDeliveryMethods } from '../storage/catalog.ts';
import { attemptsOf } from '../payments/attempts.ts';
import { checkInvoicePayment } from '../payments/reconcile.ts';
import { payOrder } from '../payments/start-payment.ts';
import { changeOrderDelivery, getInvoice, listOrders, orderDetail, shownInvoiceStatus, type InvoiceRow, type OrderDetail } from '../storage/orders.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { denied, pageCtx, readForm, requireUser } from './helpers.tsx';
import { RefundNotices } from '../refunds/notices.tsx';

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

function invoiceJson(inv: InvoiceRow, now: Date) {
  return {
    id: inv.id,
    orderId: inv.orderId,
    amount: { minor: inv.amountMinor.toString(), currency: inv.currency },
    status: shownInvoiceStatus(inv, now),
    valid: inv.valid && shownInvoiceStatus(inv, now) === 'open',
    createdAt: inv.createdAt.toISOString(),
    expiresAt: inv.expiresAt.toISOString(),
    paidAt: inv.paidAt?.toISOString() ?? null,
  };
}

function orderJson(d: OrderDetail, now: Date) {
  const m = (minor: bigint) => ({ minor: minor.toString(), currency: d.order.currency });
  return {
    id: d.order.id,
    status: d.order.status,
    createdAt: d.order.createdAt.toISOString(),
    lines: d.lines.map((l) => ({ productId: l.productId, name: l.name, unitPrice: m(l.unitPriceMinor), quantity: l.quantity, total: m(l.lineTotalMinor) })),
    delivery: { method: d.order.deliveryName, price: m(d.order.deliveryMinor) },
    subtotal: m(d.order.subtotalMinor),
    total: m(d.order.totalMinor),
    address: d.order.address,
    invoices: d.invoices.map((i) => invoiceJson(i, now)),
  };
}

const OrderLines = ({ d }: { d: OrderDetail }) => (
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
          <td class="num" data-testid="order-total">{showMoney(d.order.totalMinor, d.order.currency)}</td>
        </tr>
      </tfoot>
    </table>
  </div>
);

/** Mounts the owner-only order, invoice and receipt routes. */
export function orderRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock, settings } = deps;
  const db = database.db;

  /** The order if the viewer may see it; undefined for missing and foreign alike. */
  async function visibleOrder(user: User, id: string): Promise<OrderDetail | undefined> {
    const d = id.startsWith('ord_') && id.length < 64 ? await orderDetail(db, id) : undefined;
    return d && canView(user, d.order.userId) ? d : undefined;
  }

  async function visibleInvoice(user: User, id: string): Promise<InvoiceRow | undefined> {
    const inv = id.startsWith('inv_') && id.length < 64 ? await getInvoice(db, id) : undefined;
    return inv && canView(user, inv.userId) ? inv : undefined;
  }

  app.get('/orders', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const rows = await listOrders(db, { userId: user.id });
    const now = clock.now();
    const csrf = c.get('csrfToken');
    return c.html(
      <Layout ctx={await pageCtx(c, deps)} title="My orders">
        <h1>My orders</h1>
        {rows.length === 0 ? (
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
                {rows.map(({ order, latestInvoice }) => (
                  <tr data-testid="order-row">
                    <td>
                      <a href={`/orders/${order.id}`}>{order.id}</a>
                    </td>
                    <td>{when(order.createdAt)}</td>
                    <td>
                      <Status status={order.status} />
                    </td>
                    <td>
                      {latestInvoice ? (
                        <>
                          <a href={`/invoices/${latestInvoice.id}`}>{latestInvoice.id}</a> <Status status={shownInvoiceStatus(latestInvoice, now)} />
                        </>
                      ) : (
                        <span class="muted">none yet</span>
                      )}
                    </td>
                    <td class="num">{showMoney(order.totalMinor, order.currency)}</td>
                    <td>
                      {latestInvoice && latestInvoice.status === 'open' && deps.gateway ? (
                        <form method="post" action={`/orders/${order.id}/check-payment`} class="inline-form">
                          <CsrfField token={csrf} />
                          <button class="secondary" type="submit">Check payment status</button>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Layout>,
    );
  });

  async function renderOrder(c: ShopContext, ctx: PageCtx, d: OrderDetail, error?: string, status = 200) {
    const now = clock.now();
    const methods = isChangeable(d.order.status) ? await listDeliveryMethods(db) : [];
    const ownerView = ctx.user?.id === d.order.userId;
    return c.html(
      <Layout ctx={ctx} title={`Order ${d.order.id}`}>
        <h1>
          Order <span data-testid="order-id">{d.order.id}</span>
        </h1>
        <p>
          <Status status={d.order.status} testid="order-status" /> <span class="muted">placed {when(d.order.createdAt)}</span>
        </p>
        {error ? <Notice kind="error">{error}</Notice> : null}
        <div class="two">
          <OrderLines d={d} />
          <div class="card">
            <h2>Ship to</h2>
            <p>
              {d.order.address.fullName}
              <br />
              {d.order.address.line1}
              {d.order.address.line2 ? <><br />{d.order.address.line2}</> : null}
              <br />
              {d.order.address.postalCode} {d.order.address.city}
              <br />
              {d.order.address.country}
            </p>
            {d.order.status === 'paid' || d.order.status === 'refunded' ? <a href={`/orders/${d.order.id}/receipt`}>Receipt</a> : null}
          </div>
        </div>
        {ownerView && d.order.status === 'awaiting_payment' ? (
          <div class="actions">
            <form method="post" action={`/orders/${d.order.id}/pay`}>
              <CsrfField token={ctx.csrf} />
              <button type="submit">Pay now</button>
            </form>
            <form method="post" action={`/orders/${d.order.id}/delivery`} class="inline-form">
              <CsrfField token={ctx.csrf} />
              <label for="delivery-change">Delivery</label>
              <select id="delivery-change" name="deliveryMethodId">
                {methods.map((m) => (
                  <option value={m.id} selected={m.id === d.order.deliveryMethodId}>
                    {m.name} ({showMoney(m.price.minor, m.price.currency)})
                  </option>
                ))}
              </select>
              <button class="secondary" type="submit">Change delivery</button>
            </form>
          </div>
        ) : null}
        <RefundNotices db={db} userId={d.order.userId} orderId={d.order.id} />
        <h2>Invoices</h2>
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
              {d.invoices.map((inv) => (
                <tr data-testid="invoice-row">
                  <td>
                    <a href={`/invoices/${inv.id}`}>{inv.id}</a>
                  </td>
                  <td>{when(inv.createdAt)}</td>
                  <td>{when(inv.expiresAt)}</td>
                  <td>
                    <Status status={shownInvoiceStatus(inv, now)} />
                  </td>
                  <td class="num">{showMoney(inv.amountMinor, inv.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
      status as 200,
    );
  }

  app.get('/orders/:id', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(user, c.req.param('id'));
    if (!d) return denied(c, deps);
    return renderOrder(c, await pageCtx(c, deps), d);
  });

  // Pay an existing order: reuse its valid invoice or issue a new one. Only the owner pays.
  app.post('/orders/:id/pay', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(user, c.req.param('id'));
    if (!d || d.order.userId !== user.id) return denied(c, deps);
    try {
      return c.redirect(await payOrder(deps, d.order.id, user.id), 303);
    } catch (err) {
      if (!isDomainError(err, 'order.not_payable')) throw err;
      return renderOrder(c, await pageCtx(c, deps), d, 'This order cannot be paid any more.', 409);
    }
  });

  // Change an unpaid order: its open invoice is voided and a new one issued (invoices are immutable).
  app.post('/orders/:id/delivery', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(user, c.req.param('id'));
    if (!d || d.order.userId !== user.id) return denied(c, deps);
    const form = await readForm(c);
    try {
      await changeOrderDelivery(db, d.order.id, user.id, form.deliveryMethodId ?? '', clock.now(), settings.invoiceTtlSeconds);
    } catch (err) {
      if (!isDomainError(err, 'order.not_changeable') && !isDomainError(err, 'checkout.incomplete')) throw err;
      return renderOrder(c, await pageCtx(c, deps), d, isDomainError(err, 'checkout.incomplete') ? 'Choose one of the delivery methods.' : 'This order can no longer be changed.', 409);
    }
    return c.redirect(`/orders/${d.order.id}`, 303);
  });

  // "Check payment status": asks the gateway server to server (the webhook's code path), then shows the invoice.
  app.post('/orders/:id/check-payment', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(user, c.req.param('id'));
    const inv = d?.invoices[0];
    if (!d || !inv) return denied(c, deps);
    let failed = false;
    if (deps.gateway && inv.status === 'open') {
      try {
        await checkInvoicePayment({ database, gateway: deps.gateway, clock }, inv.id);
      } catch (err) {
        failed = true;
        deps.log.warn({ err, invoiceId: inv.id }, 'status check at the gateway failed');
      }
    }
    return c.redirect(`/invoices/${inv.id}${failed ? '?payment=unavailable' : ''}`, 303);
  });

  app.get('/invoices/:id', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    let inv = await visibleInvoice(user, c.req.param('id'));
    if (!inv) return denied(c, deps);
    // Back from the gateway: the page never changes state by itself; it asks the gateway server to
    // server, through the webhook's code path, in case the webhook has not arrived yet.
    let checkFailed = false;
    if (c.req.query('from') === 'gateway' && deps.gateway && inv.status === 'open') {
      try {
        if ((await checkInvoicePayment({ database, gateway: deps.gateway, clock }, inv.id)) > 0) inv = (await getInvoice(db, inv.id)) ?? inv;
      } catch (err) {
        checkFailed = true;
        deps.log.warn({ err, invoiceId: inv.id }, 'status check at the gateway failed');
      }
    }
    const now = clock.now();
    const status = shownInvoiceStatus(inv, now);
    const attempts = await attemptsOf(db, inv.id);
    const inProgress = status === 'open' && attempts.some((a) => a.status === 'pending');
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title={`Invoice ${inv.id}`}>
        <h1>
          Invoice <span data-testid="invoice-id">{inv.id}</span>
        </h1>
        <div class="two">
          <div class="card">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <span id="invoice-status" data-invoice={inv.id} data-order={inv.orderId} data-status={status} data-in-progress={inProgress ? 'true' : 'false'}>
                  <Status status={status} testid="invoice-status" />
                </span>
              </dd>
              <dt>Amount</dt>
              <dd class="price" data-testid="invoice-amount">{showMoney(inv.amountMinor, inv.currency)}</dd>
              <dt>Currency</dt>
              <dd>{inv.currency}</dd>
              <dt>Created</dt>
              <dd>{when(inv.createdAt)}</dd>
              <dt>Valid until</dt>
              <dd>{when(inv.expiresAt)}</dd>
              <dt>Valid</dt>
              <dd data-testid="invoice-valid">{status === 'open' ? 'yes' : 'no'}</dd>
              <dt>Order</dt>
              <dd>
                <a href={`/orders/${inv.orderId}`}>{inv.orderId}</a>
              </dd>
            </dl>
          </div>
          <div class="card">
            {c.req.query('payment') === 'unavailable' || checkFailed ? <Notice kind="error">The payment service could not be reached. Please try again in a moment.</Notice> : null}
            {status === 'open' ? (
              <>
                <p id="payment-message" data-testid="payment-message">
                  {inProgress ? 'Your payment is being processed. This page updates by itself.' : 'This invoice is waiting for payment. This page updates by itself when the payment arrives.'}
                </p>
                {ctx.user?.id === inv.userId ? (
                  <form id="pay-actions" method="post" action={`/orders/${inv.orderId}/pay`} class="actions">
                    <CsrfField token={ctx.csrf} />
                    <button type="submit">{attempts.length ? 'Pay now (try again)' : 'Pay now'}</button>
                  </form>
                ) : null}
              </>
            ) : status === 'paid' ? (
              <p id="payment-message" data-testid="payment-message">
                Paid — thank you. <a href={`/orders/${inv.orderId}/receipt`}>See the receipt</a>.
              </p>
            ) : (
              <p id="payment-message" data-testid="payment-message">
                This invoice can no longer be paid. <a href={`/orders/${inv.orderId}`}>Open the order</a> to get a new one.
              </p>
            )}
          </div>
        </div>
        {attempts.length ? (
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
                      <td>{when(a.createdAt)}</td>
                      <td>
                        <Status status={a.status} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
        {status === 'open' ? <script src="/assets/invoice.js" defer></script> : null}
      </Layout>,
    );
  });

  app.get('/orders/:id/receipt', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(user, c.req.param('id'));
    if (!d) return denied(c, deps);
    const paid = d.invoices.find((i) => i.status === 'paid' || i.status === 'refunded');
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title="Receipt">
        <h1>Receipt</h1>
        {paid && (d.order.status === 'paid' || d.order.status === 'refunded') ? (
          <>
            <dl class="facts card">
              <dt>Order</dt>
              <dd>{d.order.id}</dd>
              <dt>Invoice</dt>
              <dd>{paid.id}</dd>
              <dt>Paid</dt>
              <dd>{paid.paidAt ? when(paid.paidAt) : ''}</dd>
              <dt>Amount</dt>
              <dd data-testid="receipt-amount">{showMoney(paid.amountMinor, paid.currency)}</dd>
              <dt>Status</dt>
              <dd>
                <Status status={d.order.status} />
              </dd>
            </dl>
            <h2>Items</h2>
            <OrderLines d={d} />
            <p><a href={`/orders/${d.order.id}/receipt.pdf`} data-testid="receipt-pdf">Download the receipt (PDF)</a></p>
          </>
        ) : (
          <p data-testid="no-receipt">
            No receipt yet: this order has not been paid. <a href={`/orders/${d.order.id}`}>Back to the order</a>.
          </p>
        )}
      </Layout>,
    );
  });

  app.get('/api/orders/:id', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(user, c.req.param('id'));
    if (!d) return denied(c, deps);
    return c.json({ order: orderJson(d, clock.now()) });
  });

  app.get('/api/invoices/:id', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const inv = await visibleInvoice(user, c.req.param('id'));
    if (!inv) return denied(c, deps);
    return c.json({ invoice: invoiceJson(inv, clock.now()) });
  });

  app.get('/api/invoices/:id/status', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const inv = await visibleInvoice(user, c.req.param('id'));
    if (!inv) return denied(c, deps);
    const d = await orderDetail(db, inv.orderId);
    const j = invoiceJson(inv, clock.now());
    return c.json({ id: inv.id, status: j.status, valid: j.valid, orderStatus: d!.order.status });
  });
}
