// Changing an unpaid order's delivery method: new totals, the open invoice voided and a new one issued.
import { eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { money, parseCurrency } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import { chooseDelivery, orderTotals } from '../domain/checkout.ts';
import { isChangeable } from '../domain/order.machine.ts';
import { appendAudit } from '../storage/audit.ts';
import { listDeliveryMethods } from '../storage/catalog.ts';
import type { InvoiceRow, OrderRow } from '../storage/orders.ts';
import { orderLines, orders } from '../storage/tables.ts';
import { issueInvoice, openInvoiceFor } from './invoice-for-payment.ts';
import { applyInvoiceEvent } from './invoice-transition.ts';
import { queueSessionCancellations } from './expire-invoice.ts';
import { publish } from '../../platform/realtime/index.ts';

/**
 * Changes an unpaid order's delivery method: totals are recomputed from the frozen lines, the open
 * invoice (immutable) is voided and a new one issued for the new total.
 */
export async function changeOrderDelivery(
  db: Executor,
  orderId: string,
  userId: string,
  deliveryMethodId: string,
  now: Date,
  ttlSeconds: number,
): Promise<{ order: OrderRow; invoice: InvoiceRow | undefined }> {
  return db.transaction(async (tx) => {
    const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
    if (!order || order.userId !== userId) throw new DomainError('access.denied');
    if (!isChangeable(order.status)) throw new DomainError('order.not_changeable', { status: order.status });
    const delivery = chooseDelivery(deliveryMethodId, await listDeliveryMethods(tx));
    const lines = await tx
      .select()
      .from(orderLines)
      .where(eq(orderLines.orderId, orderId))
      .orderBy(orderLines.position);
    const frozen = lines.map((l) => {
      const unitPrice = money(l.unitPriceMinor, parseCurrency(l.currency));
      return {
        productId: l.productId,
        name: l.name,
        unitPrice,
        quantity: l.quantity,
        lineTotal: money(l.lineTotalMinor, unitPrice.currency),
      };
    });
    const totals = orderTotals(frozen, delivery.price);
    const open = await openInvoiceFor(tx, orderId);
    if (open) {
      await applyInvoiceEvent(tx, open.id, 'void', userId, now);
      // Its payment pages close at once (as at expiry), and a tab still showing it hears of it.
      await queueSessionCancellations(tx, open.id, { now: () => now });
    }
    const [updated] = await tx
      .update(orders)
      .set({
        deliveryMethodId: delivery.id,
        deliveryName: delivery.name,
        deliveryMinor: totals.delivery.minor,
        subtotalMinor: totals.subtotal.minor,
        totalMinor: totals.total.minor,
        version: order.version + 1,
        updatedAt: now,
      })
      .where(eq(orders.id, orderId))
      .returning();
    await appendAudit(
      tx,
      {
        actor: userId,
        action: 'order.revised',
        subject: orderId,
        data: { deliveryMethodId: delivery.id, totalMinor: totals.total.minor.toString() },
      },
      now,
    );
    const invoice = open ? await issueInvoice(tx, updated!, userId, now, ttlSeconds) : undefined;
    // Last in the transaction (publish holds the room's lock until commit): a tab still showing it hears of it.
    if (open) await publish(tx, `invoice:${open.id}`, { invoiceId: open.id, status: 'voided' }, { now: () => now });
    return { order: updated!, invoice };
  });
}
