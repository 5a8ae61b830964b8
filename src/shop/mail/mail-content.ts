// What each mail says, built at send time from the shop's own rows (the order's frozen lines and
// totals never change after ordering, so a retried send says the same thing as the first try).
import { customerRefundText } from '../domain/refund.rule.ts';
import { and, asc, desc, eq } from 'drizzle-orm';
import { formatMoney, money, parseCurrency } from '../../core/money.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import { refunds } from '../storage/tables.ts';
import { invoices, orderLines, orders, paymentAttempts } from '../storage/tables.ts';
import type { CardShown } from './card.ts';
import type { MailKind } from './mail.schema.ts';

/** The facts a receipt shows (also the receipt PDF's input). */
export interface ReceiptFacts {
  readonly orderId: string;
  readonly invoiceId: string;
  readonly paidAt: Date | null;
  readonly lines: readonly { name: string; quantity: number; unitPrice: string; total: string }[];
  readonly subtotal: string;
  readonly delivery: { name: string; price: string };
  readonly total: string;
  readonly address: readonly string[];
  /** The card brand and last four, as the gateway keeps them (absent when it cannot say). */
  readonly card?: CardShown | undefined;
}

export interface MailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const show = (minor: bigint, currency: string) => formatMoney(money(minor, parseCurrency(currency)));

// Every receipt reads these (the mail, its PDF, the receipt page): built once (builtOnce).
const orderWithInvoice = builtOnce((on) =>
  on
    .select({ order: orders, invoice: invoices })
    .from(invoices)
    .innerJoin(orders, eq(orders.id, invoices.orderId))
    .where(
      and(eq(invoices.id, slot('invoiceId', invoices.id)), eq(invoices.orderId, slot('orderId', invoices.orderId))),
    )
    .prepare('receipt_order_invoice'),
);

const linesOf = builtOnce((on) =>
  on
    .select()
    .from(orderLines)
    .where(eq(orderLines.orderId, slot('orderId', orderLines.orderId)))
    .orderBy(asc(orderLines.position))
    .prepare('receipt_lines'),
);

/** The receipt's facts for a paid invoice, or undefined when the order or invoice is gone. */
export async function receiptFacts(
  db: Executor,
  orderId: string,
  invoiceId: string,
  card?: CardShown,
): Promise<ReceiptFacts | undefined> {
  const [row] = await orderWithInvoice(db).execute({ invoiceId, orderId });
  if (!row) return undefined;
  const { order, invoice } = row;
  const lines = await linesOf(db).execute({ orderId });
  const a = order.address;
  return {
    orderId,
    invoiceId,
    card,
    paidAt: invoice.paidAt,
    lines: lines.map((l) => ({
      name: l.name,
      quantity: l.quantity,
      unitPrice: show(l.unitPriceMinor, l.currency),
      total: show(l.lineTotalMinor, l.currency),
    })),
    subtotal: show(order.subtotalMinor, order.currency),
    delivery: { name: order.deliveryName, price: show(order.deliveryMinor, order.currency) },
    total: show(invoice.amountMinor, invoice.currency),
    address: [a.fullName, a.line1, a.line2 ?? '', `${a.postalCode} ${a.city}`, a.country].filter((x) => x !== ''),
  };
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body style="font-family:sans-serif">${body}</body></html>`;
}

function receiptContent(f: ReceiptFacts, receiptUrl: string): MailContent {
  const card = f.card ? `Paid with ${f.card.brand} ending in ${f.card.last4}.` : '';
  const text = [
    `Thank you for your order ${f.orderId}.`,
    `Invoice ${f.invoiceId} is paid${f.paidAt ? ` (${f.paidAt.toISOString()})` : ''}.`,
    '',
    ...f.lines.map((l) => `${l.quantity} × ${l.name} at ${l.unitPrice}: ${l.total}`),
    `Subtotal: ${f.subtotal}`,
    `Delivery (${f.delivery.name}): ${f.delivery.price}`,
    `Total paid: ${f.total}`,
    ...(card ? [card] : []),
    '',
    `Delivery to: ${f.address.join(', ')}`,
    '',
    `Your receipt: ${receiptUrl}`,
    'The receipt is attached as a PDF.',
  ].join('\n');
  const rows = f.lines
    .map(
      (l) =>
        `<tr><td>${esc(l.name)}</td><td style="text-align:right">${l.quantity}</td><td style="text-align:right">${esc(l.unitPrice)}</td><td style="text-align:right">${esc(l.total)}</td></tr>`,
    )
    .join('');
  const html = page(
    `Receipt for order ${f.orderId}`,
    `<h1>Thank you for your order</h1>
<p>Order <strong>${esc(f.orderId)}</strong>, invoice ${esc(f.invoiceId)}: paid.</p>
<table><thead><tr><th>Item</th><th>Qty</th><th>Price</th><th>Total</th></tr></thead><tbody>${rows}</tbody></table>
<p>Subtotal: ${esc(f.subtotal)}<br>Delivery (${esc(f.delivery.name)}): ${esc(f.delivery.price)}<br><strong data-testid="mail-total">Total paid: ${esc(f.total)}</strong></p>
${card ? `<p>${esc(card)}</p>` : ''}<p>Delivery to: ${f.address.map(esc).join(', ')}</p>
<p><a href="${esc(receiptUrl)}" data-testid="receipt-link">See your receipt</a> (also attached as a PDF).</p>`,
  );
  return { subject: `Your receipt for order ${f.orderId} (${f.total})`, text, html };
}

function notice(subject: string, lines: readonly string[], link: { href: string; label: string }): MailContent {
  const text = [...lines, '', `${link.label}: ${link.href}`].join('\n');
  const html = page(
    subject,
    `${lines.map((l) => `<p>${esc(l)}</p>`).join('\n')}\n<p><a href="${esc(link.href)}">${esc(link.label)}</a></p>`,
  );
  return { subject, text, html };
}

/** The mail of a kind about a subject, or undefined when its rows are gone (nothing to send). */
export async function mailContent(
  db: Executor,
  mail: { kind: MailKind; subjectId: string; orderId: string; invoiceId: string | null },
  publicUrl: string,
  cardOf: (invoiceId: string) => Promise<CardShown | undefined> = async () => undefined,
): Promise<{ content: MailContent; receipt?: ReceiptFacts } | undefined> {
  const orderUrl = `${publicUrl}/orders/${mail.orderId}`;
  if (mail.kind === 'receipt') {
    // The receipt reads its order with the invoice: not read twice.
    const facts = await receiptFacts(db, mail.orderId, mail.subjectId, await cardOf(mail.subjectId));
    return facts ? { content: receiptContent(facts, `${orderUrl}/receipt`), receipt: facts } : undefined;
  }
  const [order] = await db.select().from(orders).where(eq(orders.id, mail.orderId));
  if (!order) return undefined;
  const total = show(order.totalMinor, order.currency);
  switch (mail.kind) {
    case 'attempt_failed': {
      const [attempt] = await db.select().from(paymentAttempts).where(eq(paymentAttempts.id, mail.subjectId));
      const why =
        attempt?.status === 'expired'
          ? 'timed out before it was completed'
          : `was declined${attempt?.reason ? ` (${attempt.reason})` : ''}`;
      return {
        content: notice(
          `Your payment for order ${mail.orderId} did not go through`,
          [
            `Your payment of ${total} for order ${mail.orderId} ${why}.`,
            'You have not been charged. You can try again from your order.',
          ],
          { href: orderUrl, label: 'Try again' },
        ),
      };
    }
    case 'invoice_expired':
      return {
        content: notice(
          `Your order ${mail.orderId} is waiting for payment`,
          [
            `The invoice ${mail.subjectId} for order ${mail.orderId} (${total}) expired unpaid.`,
            'Nothing was charged. Your order keeps its items: pay again from your order.',
          ],
          { href: orderUrl, label: 'Pay for your order' },
        ),
      };
    case 'refund': {
      const [refund] = await db
        .select()
        .from(refunds)
        .where(eq(refunds.id, mail.subjectId))
        .orderBy(desc(refunds.createdAt));
      if (!refund) return undefined;
      const amount = show(refund.amountMinor, refund.currency);
      return {
        content: notice(
          `Refund of ${amount} for order ${mail.orderId}`,
          [
            // The customer's text; staff's own reason is an internal note.
            `${amount} has been refunded to your card for order ${mail.orderId} ${customerRefundText(refund.customerReason)}.`,
            'It may take a few days to appear on your statement.',
          ],
          { href: orderUrl, label: 'See your order' },
        ),
      };
    }
    case 'payment_reversed':
      return {
        content: notice(
          `Your payment for order ${mail.orderId} was reversed`,
          [
            `The payment of ${total} for order ${mail.orderId} was reversed by the payment provider: no money was taken.`,
            'Your order is waiting for payment again.',
          ],
          { href: orderUrl, label: 'Pay for your order' },
        ),
      };
  }
}
