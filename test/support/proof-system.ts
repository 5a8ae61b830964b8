// The three parties in process for the proof suites, over real HTTP on real PostgreSQL: the shop
// (its app listening on a port, its worker optional), the real gateway, and the real bank behind it
// (the bank's signed callbacks reach the gateway on a port chosen first). Plus the customer-side
// helpers every suite needs: a logged-in client over HTTP, a checkout up to "Pay now", a card paid on
// the hosted page, and webhook bodies signed with the gateway's real secret.
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { signWebhook, newWebhookSecret } from '../../src/core/webhook-signature.ts';
import type { Clock } from '../../src/platform/clock.ts';
import type { Database } from '../../src/platform/db/database.ts';
import { freshDatabase } from '../../src/platform/db/testing.ts';
import { createLogger } from '../../src/platform/log.ts';
import type { ServiceHandle } from '../../src/platform/service.ts';
import { bankDatabaseSpec, loadBankConfig, startBank } from '../../src/bank/main.ts';
import { gatewayDatabaseSpec, loadGatewayConfig, startGateway } from '../../src/gateway/main.ts';
import { eventually, TEST_API_KEY } from '../../src/gateway/testing.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../../src/shop/storage/catalog.ts';
import { invoices, paymentAttempts } from '../../src/shop/storage/tables.ts';
import { ShopClient } from './shop-client.ts';
import { freePort } from './system.ts';

export const DEMO = {
  customer: ['customer@shop.test', 'demo-customer-password'],
  other: ['other@shop.test', 'demo-other-password'],
  staff: ['staff@shop.test', 'demo-staff-password'],
  manager: ['manager@shop.test', 'demo-manager-password'],
} as const;

export const ADDRESS = { fullName: 'Ada Lovelace', line1: '1 Analytical St', line2: '', postalCode: '10115', city: 'Berlin', country: 'de' };
export const card = (number = '4242424242424242') => ({ number, exp_month: 12, exp_year: 2034, cvc: '123', name: 'Demo Cardholder' });

export interface ProofSystem {
  readonly shop: ServiceHandle;
  readonly gateway: ServiceHandle;
  readonly bank: ServiceHandle;
  readonly shopDb: Database;
  readonly gatewayDb: Database;
  readonly bankDb: Database;
  /** The demo merchant's webhook signing secret (the shop verifies with it). */
  readonly webhookSecret: string;
  readonly productIds: string[];
  readonly deliveryIds: string[];
  /** A new client talking to the shop over real HTTP, from its own address. */
  client(): ShopClient;
  login(who: keyof typeof DEMO): Promise<ShopClient>;
  /** Gateway API call as the demo merchant. */
  gatewayApi(path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** Fills the cart and walks the checkout up to step 4; returns the cart id the "Pay now" form carries. */
  checkout(client: ShopClient, lines?: Array<{ productId: string; quantity: number }>): Promise<string>;
  /** Checkout + "Pay now": the invoice, the attempt and the gateway session. */
  payNow(client: ShopClient, lines?: Array<{ productId: string; quantity: number }>): Promise<{ invoiceId: string; orderId: string; sessionId: string; attemptId: string }>;
  /** Pays a session with a card on the hosted page's endpoint. */
  payCard(sessionId: string, number?: string): Promise<Response>;
  /** The gateway's session as its API shows it. */
  session(sessionId: string): Promise<{ status: string; captured_amount?: unknown; refunded_amount?: unknown } & Record<string, unknown>>;
  /** Waits until the gateway session reaches one of `statuses`. */
  settled(sessionId: string, statuses?: string[], ms?: number): Promise<Record<string, unknown>>;
  /** POSTs a body to the shop's webhook intake signed with the real secret (or `secret`). */
  deliver(event: { id: string } & Record<string, unknown>, options?: { secret?: string; timestamp?: Date }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startProofSystem(options: { jobs?: boolean; shopEnv?: Record<string, string>; clock?: Clock } = {}): Promise<ProofSystem> {
  const silent = (name: string) => createLogger(name, 'silent');
  const [gatewayPort, bankPort] = [await freePort(), await freePort()];
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const bankKey = newWebhookSecret();
  const callbackSecret = newWebhookSecret();
  const webhookSecret = newWebhookSecret();
  const opened: Array<() => Promise<void>> = [];
  const [shopDb, gatewayDb, bankDb] = await Promise.all([freshDatabase(shopDatabaseSpec, 'postgres'), freshDatabase(gatewayDatabaseSpec, 'postgres'), freshDatabase(bankDatabaseSpec, 'postgres')]);
  try {
    const bank = await startBank(
      loadBankConfig({
        BANK_PORT: String(bankPort),
        BANK_GATEWAY_KEY: bankKey,
        BANK_GATEWAY_CALLBACK_URL: `${gatewayUrl}/bank/callbacks`,
        BANK_CALLBACK_SECRET: callbackSecret,
        LOG_LEVEL: 'silent',
      }),
      { database: bankDb, workerPollMs: 100, log: silent('bank') },
    );
    opened.push(() => bank.stop());
    const shop = await startShop(
      loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'proof-session-secret'.padEnd(48, 'x'),
        LOG_LEVEL: 'silent',
        SHOP_TRUST_PROXY: 'true',
        SHOP_GATEWAY_URL: gatewayUrl,
        SHOP_GATEWAY_API_KEY: TEST_API_KEY,
        SHOP_GATEWAY_WEBHOOK_SECRETS: webhookSecret,
        SHOP_JOB_POLL_MS: '50',
        SHOP_LOGIN_MAX_FAILURES: '1000',
        // The suites send their forgeries from one address; the limit itself has its own proof (adversarial-intake).
        SHOP_WEBHOOK_REFUSALS_PER_MINUTE: '1000000',
        ...options.shopEnv,
      }),
      { database: shopDb, jobs: options.jobs ?? false, log: silent('shop'), ...(options.clock ? { clock: options.clock } : {}) },
    );
    opened.unshift(() => shop.stop());
    const gateway = await startGateway(
      loadGatewayConfig({
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_BANK_URL: `http://127.0.0.1:${bankPort}`,
        GATEWAY_BANK_KEY: bankKey,
        GATEWAY_BANK_CALLBACK_SECRET: callbackSecret,
        GATEWAY_DEMO_MERCHANT_API_KEY: TEST_API_KEY,
        GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: webhookSecret,
        GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: `${shop.url}/webhooks/gateway`,
        GATEWAY_JOB_POLL_MS: '50',
        LOG_LEVEL: 'silent',
      }),
      { database: gatewayDb, log: silent('gateway') },
    );
    opened.unshift(() => gateway.stop());
    const productIds = (await listProducts(shopDb.db)).map((p) => p.id);
    const deliveryIds = (await listDeliveryMethods(shopDb.db)).map((d) => d.id);
    let ip = 0;
    const client = () =>
      new ShopClient({ request: (p, i) => fetch(`${shop.url}${p}`, { ...i, redirect: 'manual' }) }, `198.18.${Math.floor(++ip / 250)}.${(ip % 250) + 1}`);
    const gatewayApi: ProofSystem['gatewayApi'] = (path, init = {}) =>
      fetch(`${gatewayUrl}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${TEST_API_KEY}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
        ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
      });
    const session: ProofSystem['session'] = async (id) => (await (await gatewayApi(`/v1/payment_sessions/${id}`)).json()) as never;
    const system: ProofSystem = {
      shop,
      gateway,
      bank,
      shopDb,
      gatewayDb,
      bankDb,
      webhookSecret,
      productIds,
      deliveryIds,
      client,
      async login(who) {
        const c = client();
        const res = await c.login(DEMO[who][0], DEMO[who][1]);
        assert.equal(res.status, 303, `login as ${who}`);
        return c;
      },
      gatewayApi,
      async checkout(c, lines = [{ productId: productIds[0]!, quantity: 1 }]) {
        await c.emptyCart();
        for (const l of lines) assert.equal((await c.send('/cart/add', { form: { productId: l.productId, quantity: String(l.quantity) } })).status, 303);
        assert.equal((await c.send('/checkout/delivery', { form: { deliveryMethodId: deliveryIds[0]! } })).status, 303);
        assert.equal((await c.send('/checkout/address', { form: ADDRESS })).status, 303);
        const page = await (await c.send('/checkout/pay')).text();
        const cartId = /name="cartId" value="([^"]+)"/.exec(page)?.[1];
        assert.ok(cartId, 'the "Pay now" form carries the cart id');
        return cartId;
      },
      async payNow(c, lines) {
        const cartId = await system.checkout(c, lines);
        const res = await c.send('/checkout/pay', { form: { cartId } });
        const location = res.headers.get('location') ?? '';
        assert.ok(location.startsWith(`${gatewayUrl}/pay/ps_`), `"Pay now" sends to the hosted page, got ${res.status} ${location}`);
        const sessionId = location.slice(location.lastIndexOf('/') + 1);
        const [attempt] = await shopDb.db.select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, sessionId));
        const [invoice] = await shopDb.db.select().from(invoices).where(eq(invoices.id, attempt!.invoiceId));
        return { invoiceId: attempt!.invoiceId, orderId: invoice!.orderId, sessionId, attemptId: attempt!.id };
      },
      payCard: (sessionId, number) =>
        fetch(`${gatewayUrl}/pay/${sessionId}/authorize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(card(number)) }),
      session,
      settled: (id, statuses = ['captured', 'voided', 'declined'], ms = 20_000) =>
        eventually(async () => {
          const s = await session(id);
          return statuses.includes(s.status) ? s : undefined;
        }, ms, `session ${id} to reach ${statuses.join('|')}`),
      async deliver(event, opts = {}) {
        const body = JSON.stringify(event);
        const headers = signWebhook({ id: event.id, timestamp: opts.timestamp ?? options.clock?.now() ?? new Date(), body, secrets: [opts.secret ?? webhookSecret] });
        return fetch(`${shop.url}/webhooks/gateway`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      },
      async stop() {
        for (const close of opened) await close().catch(() => undefined);
        await Promise.all([shopDb.close(), gatewayDb.close(), bankDb.close()].map((p) => p.catch(() => undefined)));
      },
    };
    return system;
  } catch (err) {
    for (const close of opened) await close().catch(() => undefined);
    throw err;
  }
}
