// Test data and HTML reading for the staff console's paged lists: many orders placed through the
// shop's own commands (several at one instant, so that the id must break ties), and the rows and
// "Newer"/"Older" links of a list page.
import { money, toJSON, type Money } from '../../src/core/money.ts';
import type { FakeClock } from '../../src/platform/clock.ts';
import type { Database } from '../../src/platform/db/database.ts';
import { wireEvent } from '../../src/shop/adapters/gateway.fake.ts';
import { placeOrder } from '../../src/shop/commands/place-order.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../../src/shop/storage/cart.ts';
import { listDeliveryMethods, listProducts } from '../../src/shop/storage/catalog.ts';

const ADDRESS = { fullName: 'Ada', line1: '1 St', line2: '', postalCode: '10115', city: 'Berlin', country: 'DE' };

/** Places `n` orders for this user, `perInstant` of them at the same instant, the clock moving `stepMs` between. */
export async function placeOrders(
  database: Database,
  clock: FakeClock,
  userId: string,
  n: number,
  options: { perInstant?: number; stepMs?: number } = {},
): Promise<string[]> {
  const { perInstant = 3, stepMs = 1000 } = options;
  const [product] = await listProducts(database.db);
  const [delivery] = await listDeliveryMethods(database.db);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % perInstant === 0) clock.advance(stepMs);
    const now = clock.now();
    await addToCart(database.db, userId, product!.id, 1, now);
    await chooseCartDelivery(database.db, userId, delivery!.id, now);
    await saveCartAddress(database.db, userId, ADDRESS, now);
    ids.push((await placeOrder(database.db, userId, now)).id);
  }
  return ids;
}

const unescape = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<');

/** The values of `data-<attr>` on the rows with this test id, in page order. */
export function rowIds(html: string, testid: string, attr: string): string[] {
  const re = new RegExp(`data-testid="${testid}" data-${attr}="([^"]+)"`, 'g');
  return [...html.matchAll(re)].map((m) => m[1]!);
}

/** The "Older" / "Newer" link of a list page (the first pager's), or undefined. */
export function pageLink(html: string, which: 'older' | 'newer'): string | undefined {
  const m = new RegExp(`<a href="([^"]+)" rel="(?:next|prev)" data-testid="page-${which}"`).exec(html);
  return m ? unescape(m[1]!) : undefined;
}

/** A signed delivery of refund news for a captured session, as our gateway sends it. */
export function refundNews(
  session: { id: string; request: { invoiceId: string; amount: Money }; sequence: number },
  refund: { id: string; minor: bigint; refundedTotalMinor: bigint },
) {
  session.sequence += 1;
  const currency = session.request.amount.currency;
  const full = refund.refundedTotalMinor >= session.request.amount.minor;
  const wire = wireEvent({
    sessionId: session.id,
    invoiceId: session.request.invoiceId,
    amount: session.request.amount,
    status: full ? 'refunded' : 'partially_refunded',
    sequence: session.sequence,
  });
  return {
    ...wire,
    data: {
      ...wire.data,
      refund: {
        id: refund.id,
        amount: toJSON(money(refund.minor, currency)),
        refunded_total: toJSON(money(refund.refundedTotalMinor, currency)),
      },
    },
  };
}
