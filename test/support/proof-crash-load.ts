// The crash matrix's load: customers who register, fill a cart, walk the checkout over the shop's
// real HTTP endpoints, press "Pay now" and pay 4242 on the gateway's hosted-page endpoint. Some
// ("stale") change the order's delivery after "Pay now" and then pay the old session anyway: the shop
// refuses that authorisation (its invoice was voided) and the gateway voids it, so voids happen too.
// Any request may fail while a process is dead; the load records it and carries on.
import type { ProofRandom } from './proof.ts';
import type { PartyProcesses } from './harness/processes.ts';
import { ShopClient } from './shop-client.ts';
import { APPROVED_CARD, cardDetails } from './factories.ts';

const ADDRESS = {
  fullName: 'Crash Tester',
  line1: '1 Kill Street',
  line2: '',
  postalCode: '10115',
  city: 'Berlin',
  country: 'DE',
};
const CARD_4242 = cardDetails(APPROVED_CARD, { name: 'Crash Tester' });

/** A card as the hosted page submits it (the matrix pays 4242; the approval crash cases pay 4000 0025 0000 3155). */
export type CardInput = typeof CARD_4242;

export interface Purchase {
  readonly customer: number;
  readonly stale: boolean;
  sessionId?: string;
  /** How the card submission ended: HTTP status, or the network error. */
  paid?: number | string;
  /** The step a failure stopped at. */
  failedAt?: string;
}

export interface LoadStats {
  purchases: Purchase[];
  errors: number;
}

let customerSeq = 0;

/** A new customer, registered and logged in over HTTP. */
export async function newCustomer(system: PartyProcesses): Promise<ShopClient> {
  const client = new ShopClient({
    request: (p, i) =>
      fetch(`${system.urls.shop}${p}`, { ...i, redirect: 'manual', signal: AbortSignal.timeout(15_000) }),
  });
  const n = `${process.pid}-${Date.now()}-${++customerSeq}`;
  const res = await client.send('/register', {
    form: { name: `Crash ${n}`, email: `crash-${n}@shop.test`, password: 'crash-customer-password' },
  });
  if (res.status !== 303) throw new Error(`register answered ${res.status}`);
  return client;
}

/** Pays a session with `card` (4242 unless told) on the hosted page's endpoint; the HTTP status or the error. */
export async function payCard(
  system: PartyProcesses,
  sessionId: string,
  card: CardInput = CARD_4242,
): Promise<number | string> {
  try {
    const res = await fetch(`${system.urls.gateway}/pay/${sessionId}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(card),
      signal: AbortSignal.timeout(15_000),
    });
    await res.text();
    return res.status;
  } catch (err) {
    return (err as Error).name;
  }
}

/** One purchase from an empty cart to the card; never throws (a dead process is expected). */
export async function purchase(
  system: PartyProcesses,
  client: ShopClient,
  customer: number,
  stale: boolean,
  random: ProofRandom,
  catalog: Catalog,
  card: CardInput = CARD_4242,
): Promise<Purchase> {
  const p: Purchase = { customer, stale };
  const step = async (name: string, run: () => Promise<Response>, expect: number[]) => {
    let res: Response;
    try {
      res = await run();
    } catch (err) {
      throw Object.assign(new Error(`${name}: ${(err as Error).message}`), { step: name });
    }
    if (!expect.includes(res.status)) throw Object.assign(new Error(`${name}: ${res.status}`), { step: name });
    return res;
  };
  try {
    await client.emptyCart();
    await step(
      'cart',
      () =>
        client.send('/cart/add', {
          form: { productId: random.pick(catalog.products), quantity: String(1 + random.int(2)) },
        }),
      [303],
    );
    await step(
      'delivery',
      () => client.send('/checkout/delivery', { form: { deliveryMethodId: catalog.deliveries[0]! } }),
      [303],
    );
    await step('address', () => client.send('/checkout/address', { form: ADDRESS }), [303]);
    const page = await (await step('review', () => client.send('/checkout/pay'), [200])).text();
    const cartId = /name="cartId" value="([^"]+)"/.exec(page)?.[1];
    if (!cartId) throw Object.assign(new Error('no cart id on the pay page'), { step: 'review' });
    const res = await step('pay-now', () => client.send('/checkout/pay', { form: { cartId } }), [303]);
    const location = res.headers.get('location') ?? '';
    const m = /\/pay\/(ps_[0-9A-Za-z]+)$/.exec(location);
    if (!m) throw Object.assign(new Error(`"Pay now" sent to ${location}`), { step: 'pay-now' });
    p.sessionId = m[1]!;
    if (stale) {
      // The order changes after "Pay now": its invoice is voided, the old session stays payable at the gateway.
      const [row] = await system.query<{ order_id: string }>(
        'shop',
        'select i.order_id from payment_attempts a join invoices i on i.id = a.invoice_id where a.gateway_session_id in ($1, $2)',
        [p.sessionId, `cs_${p.sessionId.slice(3)}`],
      );
      if (row)
        await step(
          'change-delivery',
          () => client.send(`/orders/${row.order_id}/delivery`, { form: { deliveryMethodId: catalog.deliveries[1]! } }),
          [303],
        );
    }
    p.paid = await payCard(system, p.sessionId, card);
    if (typeof p.paid === 'string') p.failedAt = 'card';
  } catch (err) {
    p.failedAt = (err as { step?: string }).step ?? 'unknown';
  }
  return p;
}

export interface Catalog {
  readonly products: string[];
  readonly deliveries: string[];
}

export async function catalog(system: PartyProcesses): Promise<Catalog> {
  const products = (
    await system.query<{ id: string }>('shop', 'select id from products where not archived order by id')
  ).map((r) => r.id);
  const deliveries = (
    await system.query<{ id: string }>('shop', 'select id from delivery_methods where active order by id')
  ).map((r) => r.id);
  return { products, deliveries };
}

/**
 * Runs `customers` customers in parallel, each buying until `stop()` says so or `maxEach` purchases
 * are made. The first purchase of customer 1 is stale (so a void is always in the load), the others
 * are stale with probability `staleRate`.
 */
export async function runLoad(
  system: PartyProcesses,
  clients: ShopClient[],
  random: ProofRandom,
  options: { maxEach: number; staleRate: number; stop: () => boolean; catalog: Catalog },
): Promise<Purchase[]> {
  const all: Purchase[] = [];
  await Promise.all(
    clients.map(async (client, c) => {
      const r = random.fork(`customer-${c}`);
      for (let i = 0; i < options.maxEach && !options.stop(); i++) {
        const stale = (c === 1 % clients.length && i === 0) || r.chance(options.staleRate);
        const p = await purchase(system, client, c, stale, r, options.catalog);
        all.push(p);
        if (p.failedAt && p.failedAt !== 'card') await new Promise((res) => setTimeout(res, 200));
      }
    }),
  );
  return all;
}
