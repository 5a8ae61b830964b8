// Test data, made in one place: the demo customers and staff the shop seeds, a delivery address, a card
// as the hosted page submits it, and a cart walked through the checkout up to "Pay now".
import assert from 'node:assert/strict';
import type { ShopClient } from './shop-client.ts';

/** The demo accounts the shop seeds (email, password). */
export const DEMO = {
  customer: ['customer@shop.test', 'demo-customer-password'],
  other: ['other@shop.test', 'demo-other-password'],
  staff: ['staff@shop.test', 'demo-staff-password'],
  manager: ['manager@shop.test', 'demo-manager-password'],
} as const;

/** The checkout's address form. */
export const ADDRESS = {
  fullName: 'Ada Lovelace',
  line1: '1 Analytical St',
  line2: '',
  postalCode: '10115',
  city: 'Berlin',
  country: 'de',
} as const;

/** A delivery address, with any field changed. */
export function address(
  overrides: Partial<Record<keyof typeof ADDRESS, string>> = {},
): Record<keyof typeof ADDRESS, string> {
  return { ...ADDRESS, ...overrides };
}

/** The demo bank's card that is approved without a question. */
export const APPROVED_CARD = '4242424242424242';

/** A card as the hosted page posts it to /pay/:id/authorize (expiry 12/2034, CVC 123 unless given). */
export function cardDetails(number = APPROVED_CARD, holder: { name?: string; cvc?: string } = {}) {
  return { number, exp_month: 12, exp_year: 2034, cvc: holder.cvc ?? '123', name: holder.name ?? 'Demo Cardholder' };
}

export interface CartLine {
  readonly productId: string;
  readonly quantity: number;
}

/**
 * Fills the client's cart with `lines` and walks the checkout (delivery, address) to its last step;
 * returns the cart id the "Pay now" form carries. Every step must be accepted (303).
 */
export async function checkoutForm(
  client: ShopClient,
  order: { lines: readonly CartLine[]; deliveryMethodId: string; address?: Record<string, string> },
): Promise<string> {
  for (const l of order.lines)
    assert.equal(
      (await client.send('/cart/add', { form: { productId: l.productId, quantity: String(l.quantity) } })).status,
      303,
      'added to the cart',
    );
  assert.equal(
    (await client.send('/checkout/delivery', { form: { deliveryMethodId: order.deliveryMethodId } })).status,
    303,
    'delivery chosen',
  );
  assert.equal(
    (await client.send('/checkout/address', { form: order.address ?? ADDRESS })).status,
    303,
    'address given',
  );
  const cartId = /name="cartId" value="([^"]+)"/.exec(await (await client.send('/checkout/pay')).text())?.[1];
  assert.ok(cartId, 'the "Pay now" form carries the cart id');
  return cartId;
}

/** `checkoutForm`, then "Pay now": the response (a redirect to the hosted page or the invoice). */
export async function payNowForm(client: ShopClient, order: Parameters<typeof checkoutForm>[1]): Promise<Response> {
  const cartId = await checkoutForm(client, order);
  return client.send('/checkout/pay', { form: { cartId } });
}
