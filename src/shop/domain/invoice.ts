/**
 * Invoice rules (seed 002): an invoice is issued for an order's total, belongs to the order's owner,
 * is valid for a limited time, and is never edited. When the order changes while unpaid, the open
 * invoice is voided and a new one issued; when "Pay now" is pressed, a still-valid invoice for the
 * same amount is reused so that repeated clicks never multiply invoices.
 */
import { equals, type Money } from '../../core/money.ts';
import { type InvoiceStatus } from './invoice.machine.ts';

export const DEFAULT_INVOICE_TTL_SECONDS = 30 * 60;

/** The fields an invoice is born with; none of them changes afterwards. */
export interface InvoiceTerms {
  readonly orderId: string;
  readonly ownerId: string;
  readonly amount: Money;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** An invoice as the rules need to see it. */
export interface InvoiceView {
  readonly id: string;
  readonly status: InvoiceStatus;
  readonly amount: Money;
  readonly expiresAt: Date;
}

/** The terms of a new invoice for an order's total, valid for `ttlSeconds` from `now`. */
export function invoiceTerms(input: {
  orderId: string;
  ownerId: string;
  total: Money;
  now: Date;
  ttlSeconds: number;
}): InvoiceTerms {
  return Object.freeze({
    orderId: input.orderId,
    ownerId: input.ownerId,
    amount: input.total,
    createdAt: input.now,
    expiresAt: new Date(input.now.getTime() + input.ttlSeconds * 1000),
  });
}

/** Whether the invoice can take a payment at `now`: open and not past its expiry. */
export function isPayable(invoice: Pick<InvoiceView, 'status' | 'expiresAt'>, now: Date): boolean {
  return invoice.status === 'open' && now.getTime() < invoice.expiresAt.getTime();
}

/** What "Pay now" must do with the order's open invoice (if any) given the order's current total. */
export type InvoicePlan =
  | { readonly kind: 'reuse'; readonly invoiceId: string }
  | { readonly kind: 'issue'; readonly close?: { readonly invoiceId: string; readonly event: 'expire' | 'void' } };

/** Decides between reusing the open invoice, or closing it (expired or superseded) and issuing a new one. */
export function planInvoice(open: InvoiceView | undefined, total: Money, now: Date): InvoicePlan {
  if (open === undefined || open.status !== 'open') return { kind: 'issue' };
  if (now.getTime() >= open.expiresAt.getTime())
    return { kind: 'issue', close: { invoiceId: open.id, event: 'expire' } };
  // An invoice is immutable: a different total means a different invoice, never an edited one.
  if (!equals(open.amount, total)) return { kind: 'issue', close: { invoiceId: open.id, event: 'void' } };
  return { kind: 'reuse', invoiceId: open.id };
}
