// Orders and invoices as their owner (or staff) may see them: a missing id and another customer's id
// read the same — undefined — so that the pages answer both with the same "Access denied".
import type { Executor } from '../../platform/db/database.ts';
import { canView } from '../domain/access.ts';
import type { DeliveryOption } from '../domain/checkout.ts';
import { isChangeable } from '../domain/order.machine.ts';
import type { User } from './accounts.ts';
import { listDeliveryMethods } from './catalog.ts';
import { getInvoice, orderDetail, type InvoiceRow, type OrderDetail, type OrderRow } from './orders.ts';

/** The order if the viewer may see it; undefined for missing and foreign alike. */
export async function visibleOrder(db: Executor, viewer: User, id: string): Promise<OrderDetail | undefined> {
  const d = id.startsWith('ord_') && id.length < 64 ? await orderDetail(db, id) : undefined;
  return d && canView(viewer, d.order.userId) ? d : undefined;
}

/** The invoice if the viewer may see it; undefined for missing and foreign alike. */
export async function visibleInvoice(db: Executor, viewer: User, id: string): Promise<InvoiceRow | undefined> {
  const inv = id.startsWith('inv_') && id.length < 64 ? await getInvoice(db, id) : undefined;
  return inv && canView(viewer, inv.userId) ? inv : undefined;
}

/** The delivery methods an order may still change to (none once it cannot change). */
export async function deliveryChoices(db: Executor, order: Pick<OrderRow, 'status'>): Promise<DeliveryOption[]> {
  return isChangeable(order.status) ? listDeliveryMethods(db) : [];
}

/** The status of an invoice's order. */
export async function orderStatusOf(db: Executor, invoice: Pick<InvoiceRow, 'orderId'>): Promise<OrderRow['status']> {
  const d = await orderDetail(db, invoice.orderId);
  return d!.order.status;
}

/** The order's number and the invoice's place among the order's invoices (1 for the first issued). */
export async function invoiceNumbering(
  db: Executor,
  invoice: Pick<InvoiceRow, 'id' | 'orderId'>,
): Promise<{ orderNumber: number; position: number }> {
  const d = await orderDetail(db, invoice.orderId);
  const newestFirst = d?.invoices ?? [];
  const i = newestFirst.findIndex((x) => x.id === invoice.id);
  return { orderNumber: d?.order.number ?? 0, position: i < 0 ? 1 : newestFirst.length - i };
}
