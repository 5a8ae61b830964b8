// The owner-only order pages and API: the list of one's orders, an order, its receipt, and the
// actions on an unpaid order (pay, change the delivery, ask the gateway about the payment). Each
// answers its owner or staff; anyone else logged in gets "Access denied" with status 404, exactly as
// for an id that does not exist; an anonymous visitor is sent to log in and then back.
import type { Hono } from 'hono';
import { isDomainError } from '../../core/errors.ts';
import { OrderPage, OrdersPage, ReceiptPage } from '../pages/orders.page.tsx';
import { checkInvoicePayment } from '../commands/check-payment.ts';
import { payOrder } from '../commands/start-payment.ts';
import { RefundNotices } from '../pages/refund-notices.tsx';
import { deliveryChoices, visibleOrder } from '../storage/order-views.ts';
import { listOrders, type OrderDetail } from '../storage/orders.ts';
import { changeOrderDelivery } from '../commands/change-order-delivery.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { denied, pageCtx, readForm, requireUser } from './helpers.tsx';
import { orderJson } from './order-json.ts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor } from './staff-list-query.ts';

/** Mounts the owner-only order routes. */
export function orderRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock, settings } = deps;
  const db = database.db;
  myOrdersRoute(app, deps);

  async function renderOrder(c: ShopContext, d: OrderDetail, error?: string, status: 200 | 409 = 200) {
    const notices = <RefundNotices db={db} userId={d.order.userId} orderId={d.order.id} />;
    const page = (
      <OrderPage
        ctx={await pageCtx(c, deps)}
        d={d}
        methods={await deliveryChoices(db, d.order)}
        now={clock.now()}
        error={error}
        notices={notices}
      />
    );
    return c.html(page, status);
  }

  app.get('/orders/:id', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(db, user, c.req.param('id'));
    if (!d) return denied(c, deps);
    return renderOrder(c, d);
  });

  // Pay an existing order: reuse its valid invoice or issue a new one. Only the owner pays.
  app.post('/orders/:id/pay', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(db, user, c.req.param('id'));
    if (!d || d.order.userId !== user.id) return denied(c, deps);
    try {
      return c.redirect(await payOrder(deps, d.order.id, user.id), 303);
    } catch (err) {
      if (!isDomainError(err, 'order.not_payable')) throw err;
      return renderOrder(c, d, 'This order cannot be paid any more.', 409);
    }
  });

  // Change an unpaid order: its open invoice is voided and a new one issued (invoices are immutable).
  app.post('/orders/:id/delivery', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(db, user, c.req.param('id'));
    if (!d || d.order.userId !== user.id) return denied(c, deps);
    const form = await readForm(c);
    try {
      await changeOrderDelivery(
        db,
        d.order.id,
        user.id,
        form.deliveryMethodId ?? '',
        clock.now(),
        settings.invoiceTtlSeconds,
      );
    } catch (err) {
      if (!isDomainError(err, 'order.not_changeable') && !isDomainError(err, 'checkout.incomplete')) throw err;
      return renderOrder(
        c,
        d,
        isDomainError(err, 'checkout.incomplete')
          ? 'Choose one of the delivery methods.'
          : 'This order can no longer be changed.',
        409,
      );
    }
    return c.redirect(`/orders/${d.order.id}`, 303);
  });

  // "Check payment status": asks the gateway (the webhook's code path); the invoice then says what was found.
  app.post('/orders/:id/check-payment', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(db, user, c.req.param('id'));
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
    return c.redirect(`/invoices/${inv.id}${failed ? '?payment=unavailable' : '?checked=1'}`, 303);
  });

  app.get('/orders/:id/receipt', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(db, user, c.req.param('id'));
    if (!d) return denied(c, deps);
    return c.html(<ReceiptPage ctx={await pageCtx(c, deps)} d={d} />);
  });

  app.get('/api/orders/:id', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const d = await visibleOrder(db, user, c.req.param('id'));
    if (!d) return denied(c, deps);
    return c.json({ order: orderJson(d, clock.now()) });
  });
}

/** "My orders": the customer's orders, a page at a time. */
function myOrdersRoute(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { clock } = deps;
  const db = deps.database.db;
  app.get('/orders', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    // "Older" / "Newer" carry the key of the last / first order shown; a damaged one starts again at the newest.
    const before = c.req.query('before');
    const after = c.req.query('after');
    const beforeKey = before === undefined ? undefined : decodeCursor(before);
    const afterKey = after === undefined ? undefined : decodeCursor(after);
    if ((before !== undefined && !beforeKey) || (after !== undefined && !afterKey)) return c.redirect('/orders', 303);
    const page = await listOrders(db, user.id, { limit: DEFAULT_PAGE_SIZE, before: beforeKey, after: afterKey });
    return c.html(
      <OrdersPage
        ctx={await pageCtx(c, deps)}
        rows={page.rows}
        older={page.older ? `/orders?before=${encodeCursor(page.older)}` : undefined}
        newer={page.newer ? `/orders?after=${encodeCursor(page.newer)}` : undefined}
        limit={DEFAULT_PAGE_SIZE}
        now={clock.now()}
        canCheckPayment={deps.gateway !== undefined}
      />,
    );
  });
}
