// The cart as the cart and checkout pages show it: lines priced at today's catalog prices, with the
// subtotal (or why there is none), and the summary of the last checkout step.
import { multiply, sum, type Money } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { DeliveryOption } from '../domain/checkout.ts';
import { cartView, lastAddress, type Address, type Cart, type CartLineView, type CartView } from './cart.ts';
import { deliveryMethodsForDisplay } from './catalog.ts';

export interface PricedCart {
  readonly cart: Cart;
  readonly lines: CartLineView[];
  readonly address: Address | undefined;
  /** Lines that can be ordered (their product is still sold) and those that cannot. */
  readonly available: CartLineView[];
  readonly unavailable: CartLineView[];
  /** The available lines' sum; undefined when there are none or their currencies differ. */
  readonly subtotal: Money | undefined;
  /** The available lines are in more than one currency (one order is paid in one currency). */
  readonly mixed: boolean;
}

/** Cart lines priced now, with the subtotal (or why there is none). */
export function priceCart(
  lines: readonly CartLineView[],
): Pick<PricedCart, 'available' | 'unavailable' | 'subtotal' | 'mixed'> {
  const available = lines.filter((l) => !l.product.archived);
  const unavailable = lines.filter((l) => l.product.archived);
  const currencies = new Set(available.map((l) => l.product.price.currency));
  const mixed = currencies.size > 1;
  const subtotal =
    available.length > 0 && !mixed
      ? sum(
          available.map((l) => multiply(l.product.price, l.quantity)),
          available[0]!.product.price.currency,
        )
      : undefined;
  return { available, unavailable, subtotal, mixed };
}

/** The user's open cart with its lines priced now; `known` is the view read with the session, if it was. */
export async function pricedCart(db: Executor, userId: string, now: Date, known?: CartView): Promise<PricedCart> {
  const view = known?.cart.userId === userId ? known : await cartView(db, userId, now);
  return { ...view, ...priceCart(view.lines) };
}

/** The address form's prefill: the cart's chosen address, else the one the user used last. */
export async function addressPrefill(
  db: Executor,
  userId: string,
  chosen: Address | undefined,
): Promise<Address | undefined> {
  return chosen ?? (await lastAddress(db, userId));
}

/** What the last checkout step shows, or which earlier step is missing. */
export type CheckoutSummary =
  | { readonly missing: 'lines' | 'delivery' | 'address' }
  | {
      readonly missing?: undefined;
      readonly priced: PricedCart;
      readonly method: DeliveryOption;
      readonly address: Address;
      readonly total: Money | undefined;
    };

/** The cart, its delivery method and address, and the total at today's prices. */
export async function checkoutSummary(
  db: Executor,
  userId: string,
  now: Date,
  known?: CartView,
): Promise<CheckoutSummary> {
  const priced = await pricedCart(db, userId, now, known);
  if (priced.lines.length === 0) return { missing: 'lines' };
  const methods = await deliveryMethodsForDisplay(db);
  const method = methods.find((m) => m.id === priced.cart.deliveryMethodId);
  if (!method) return { missing: 'delivery' };
  if (!priced.address) return { missing: 'address' };
  const total =
    priced.subtotal && priced.subtotal.currency === method.price.currency
      ? sum([priced.subtotal, method.price], method.price.currency)
      : undefined;
  return { priced, method, address: priced.address, total };
}
