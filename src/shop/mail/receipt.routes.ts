// GET /orders/:id/receipt.pdf: the receipt PDF the receipt mail attaches, for the order's owner or staff
// (anyone else, and a missing or unpaid order, gets the same 404 as every owner-only page).
import type { Hono } from 'hono';
import { canView } from '../domain/access.ts';
import type { ShopDeps, ShopEnv } from '../routes/context.ts';
import { denied, requireUser } from '../routes/helpers.tsx';
import { and, eq, inArray } from 'drizzle-orm';
import { invoices, orders } from '../storage/tables.ts';
import { cardThatPaid } from './card.ts';
import { receiptFacts } from './mail-content.ts';
import { receiptPdf } from './receipt-pdf.ts';

/** Order and invoice statuses that had a payment taken, so a receipt exists. */
const PAID = ['paid', 'refunded', 'disputed', 'dispute_lost'] as const;
const PAID_LIST: readonly string[] = PAID;

/** Mounts the receipt PDF download. */
export function receiptPdfRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const db = deps.database.db;
  app.get('/orders/:id/receipt.pdf', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    const id = c.req.param('id');
    const [order] =
      id.startsWith('ord_') && id.length < 64 ? await db.select().from(orders).where(eq(orders.id, id)) : [];
    if (!order || !canView(user, order.userId) || !PAID_LIST.includes(order.status)) return denied(c, deps);
    const [paid] = await db
      .select()
      .from(invoices)
      .where(and(eq(invoices.orderId, id), inArray(invoices.status, [...PAID])));
    // The card is the gateway's to tell; the download goes without it when the gateway cannot answer.
    const card = paid ? await cardThatPaid(db, deps.gateway, paid.id).catch(() => undefined) : undefined;
    const facts = paid ? await receiptFacts(db, id, paid.id, card) : undefined;
    if (!facts) return denied(c, deps);
    const pdf = await receiptPdf(facts);
    return c.body(Buffer.from(pdf), 200, {
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename="receipt-${id}.pdf"`,
      'cache-control': 'private, no-store',
    });
  });
}
