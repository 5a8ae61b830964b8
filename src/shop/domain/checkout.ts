/**
 * Checkout arithmetic, all on the server: the browser names products and quantities, never prices.
 * Lines are frozen with the unit price at the moment of ordering (seed 002: "prices should be kept in
 * goods and services in order"), so a later price edit or archive leaves old orders as they were.
 */
import { DomainError } from '../../core/errors.ts';
import { add, multiply, sum, type Currency, type Money } from '../../core/money.ts';

export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 99;

/** A product as the catalog sells it now. */
export interface CatalogProduct {
  readonly id: string;
  readonly name: string;
  readonly price: Money;
  readonly archived: boolean;
}

/** A delivery method with its price. */
export interface DeliveryOption {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly price: Money;
  readonly active: boolean;
}

/** What the customer asked for: a product and how many. */
export interface CartItem {
  readonly productId: string;
  readonly quantity: number;
}

/** An order line frozen at ordering: the name and the unit price as they were then. */
export interface FrozenLine {
  readonly productId: string;
  readonly name: string;
  readonly unitPrice: Money;
  readonly quantity: number;
  readonly lineTotal: Money;
}

/** The totals of an order: subtotal of the lines, delivery, and what the invoice will ask for. */
export interface OrderTotals {
  readonly currency: Currency;
  readonly subtotal: Money;
  readonly delivery: Money;
  readonly total: Money;
}

const QUANTITY = /^[0-9]{1,2}$/;

/** Reads a quantity from the wire: a whole number 1..99, as a number or a plain digit string. */
export function parseQuantity(value: unknown): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && QUANTITY.test(value.trim())) n = Number(value.trim());
  else throw new DomainError('cart.quantity_invalid');
  if (!Number.isInteger(n) || n < MIN_QUANTITY || n > MAX_QUANTITY) throw new DomainError('cart.quantity_invalid');
  return n;
}

/** Freezes cart items into order lines at today's catalog prices; refuses empty, unknown, archived or mixed-currency carts. */
export function freezeLines(items: readonly CartItem[], catalog: ReadonlyMap<string, CatalogProduct>): FrozenLine[] {
  if (items.length === 0) throw new DomainError('cart.empty');
  const lines = items.map((item) => {
    const product = catalog.get(item.productId);
    if (product === undefined || product.archived)
      throw new DomainError('product.unavailable', { productId: item.productId });
    const quantity = parseQuantity(item.quantity);
    return {
      productId: product.id,
      name: product.name,
      unitPrice: product.price,
      quantity,
      lineTotal: multiply(product.price, quantity),
    };
  });
  const currency = lines[0]!.unitPrice.currency;
  for (const line of lines) {
    if (line.unitPrice.currency !== currency) {
      throw new DomainError('money.currency_mismatch', { left: currency, right: line.unitPrice.currency });
    }
  }
  return lines;
}

/** Totals of frozen lines plus delivery; the delivery must be in the lines' currency. */
export function orderTotals(lines: readonly FrozenLine[], delivery: Money): OrderTotals {
  if (lines.length === 0) throw new DomainError('cart.empty');
  const currency = lines[0]!.unitPrice.currency;
  const subtotal = sum(
    lines.map((l) => l.lineTotal),
    currency,
  );
  // add() refuses a delivery price in another currency: one invoice, one currency.
  const total = add(subtotal, delivery);
  return { currency, subtotal, delivery, total };
}

/** Picks the delivery method the customer chose, if it is still offered. */
export function chooseDelivery(id: string | null | undefined, options: readonly DeliveryOption[]): DeliveryOption {
  const option = options.find((o) => o.id === id && o.active);
  if (option === undefined) throw new DomainError('checkout.incomplete', { field: 'deliveryMethodId' });
  return option;
}
