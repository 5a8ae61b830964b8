// Orders and invoices as the JSON API answers them (amounts as strings of minor units).
import { shownInvoiceStatus, type InvoiceRow, type OrderDetail } from '../storage/orders.ts';

/** An invoice as JSON, its status as shown now. */
export function invoiceJson(inv: InvoiceRow, now: Date) {
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

/** An order with its lines and invoices as JSON. */
export function orderJson(d: OrderDetail, now: Date) {
  const m = (minor: bigint) => ({ minor: minor.toString(), currency: d.order.currency });
  return {
    id: d.order.id,
    status: d.order.status,
    createdAt: d.order.createdAt.toISOString(),
    lines: d.lines.map((l) => ({
      productId: l.productId,
      name: l.name,
      unitPrice: m(l.unitPriceMinor),
      quantity: l.quantity,
      total: m(l.lineTotalMinor),
    })),
    delivery: { method: d.order.deliveryName, price: m(d.order.deliveryMinor) },
    subtotal: m(d.order.subtotalMinor),
    total: m(d.order.totalMinor),
    address: d.order.address,
    invoices: d.invoices.map((i) => invoiceJson(i, now)),
  };
}
