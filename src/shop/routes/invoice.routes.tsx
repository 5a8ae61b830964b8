// The owner-only invoice page and API. Back from the gateway, the page asks the gateway server to
// server (the webhook's code path) in case the webhook has not arrived yet; it never changes state
// by itself.
import type { Hono } from 'hono';
import { InvoicePage } from '../pages/invoice.page.tsx';
import { attemptsOf } from '../storage/payments.ts';
import { checkInvoicePayment } from '../commands/check-payment.ts';
import { invoiceNumbering, orderStatusOf, visibleInvoice } from '../storage/order-views.ts';
import { getInvoice, shownInvoiceStatus, type InvoiceRow } from '../storage/orders.ts';
import type { ShopDeps, ShopEnv } from './context.ts';
import { denied, pageCtx, requireUser } from './helpers.tsx';
import { invoiceJson } from './order-json.ts';

/** Mounts the owner-only invoice routes. */
export function invoiceRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock } = deps;
  const db = database.db;

  /** Asks the gateway about an open invoice; the invoice as it is afterwards, and whether asking failed. */
  async function checkAtGateway(inv: InvoiceRow): Promise<{ inv: InvoiceRow; failed: boolean }> {
    if (!deps.gateway || inv.status !== 'open') return { inv, failed: false };
    try {
      if ((await checkInvoicePayment({ database, gateway: deps.gateway, clock }, inv.id)) > 0)
        return { inv: (await getInvoice(db, inv.id)) ?? inv, failed: false };
      return { inv, failed: false };
    } catch (err) {
      deps.log.warn({ err, invoiceId: inv.id }, 'status check at the gateway failed');
      return { inv, failed: true };
    }
  }

  app.get('/invoices/:id', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const found = await visibleInvoice(db, user, c.req.param('id'));
    if (!found) return denied(c, deps);
    const { inv, failed } =
      c.req.query('from') === 'gateway' ? await checkAtGateway(found) : { inv: found, failed: false };
    const attempts = await attemptsOf(db, inv.id);
    const paymentUnavailable = c.req.query('payment') === 'unavailable' || failed;
    const { orderNumber, position } = await invoiceNumbering(db, inv);
    return c.html(
      <InvoicePage
        ctx={await pageCtx(c, deps)}
        inv={inv}
        orderNumber={orderNumber}
        position={position}
        status={shownInvoiceStatus(inv, clock.now())}
        attempts={attempts}
        paymentUnavailable={paymentUnavailable}
        checked={c.req.query('checked') === '1'}
      />,
    );
  });

  app.get('/api/invoices/:id', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const inv = await visibleInvoice(db, user, c.req.param('id'));
    if (!inv) return denied(c, deps);
    return c.json({ invoice: invoiceJson(inv, clock.now()) });
  });

  app.get('/api/invoices/:id/status', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const inv = await visibleInvoice(db, user, c.req.param('id'));
    if (!inv) return denied(c, deps);
    const orderStatus = await orderStatusOf(db, inv);
    const j = invoiceJson(inv, clock.now());
    const [latest] = await attemptsOf(db, inv.id);
    const attempt = latest ? { id: latest.id, status: latest.status } : null;
    return c.json({ id: inv.id, status: j.status, valid: j.valid, orderStatus, attempt });
  });
}
