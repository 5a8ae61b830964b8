// The one way tests and proofs start the three parties in this process: the real bank, gateway and
// shop, wired as `npm start` wires them (wiring.ts), each over real HTTP on its own port and its own
// fresh PostgreSQL database; the handles give tests the Hono apps and the databases. `startProofSystem`
// adds the customer-side steps every proof suite takes (a logged-in client, a checkout up to "Pay now",
// a card paid on the hosted page, webhook bodies signed with the gateway's real secret).
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import type { Secrets } from '../../../src/main.ts';
import { loadBankConfig, startBank } from '../../../src/bank/main.ts';
import { signWebhook } from '../../../src/core/webhook-signature.ts';
import { loadGatewayConfig, startGateway } from '../../../src/gateway/main.ts';
import { eventually, TEST_API_KEY } from '../../../src/gateway/testing.ts';
import type { Clock } from '../../../src/platform/clock.ts';
import type { Database } from '../../../src/platform/db/database.ts';
import { createLogger } from '../../../src/platform/log.ts';
import type { ServiceHandle } from '../../../src/platform/service.ts';
import { loadShopConfig, startShop } from '../../../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../../../src/shop/storage/catalog.ts';
import { invoices, paymentAttempts } from '../../../src/shop/storage/tables.ts';
import { cardDetails, checkoutForm, DEMO, type CartLine } from '../factories.ts';
import { ShopClient } from '../shop-client.ts';
import { freePorts, freshPartyDatabases, wire, type PerParty } from './wiring.ts';

export interface InProcessParties {
  readonly shop: ServiceHandle;
  readonly gateway: ServiceHandle;
  readonly bank: ServiceHandle;
  readonly databaseUrls: PerParty<string>;
  /** The shared secrets, as src/main.ts generates them. */
  readonly secrets: Secrets;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  /** Settings over the wiring (LOG_LEVEL is silent unless given). */
  readonly env?: Record<string, string>;
  /** Fixed secrets instead of fresh ones (e.g. the demo merchant's API key). */
  readonly secrets?: Partial<Secrets>;
  /** Whether the shop runs its job worker (the service's default when absent). */
  readonly jobs?: boolean;
  /** The shop's clock. */
  readonly clock?: Clock;
  /** How often the bank's worker polls (the service's default when absent). */
  readonly bankPollMs?: number;
}

/** Starts bank, gateway and shop (in that order) on fresh PostgreSQL databases. */
export async function startInProcess(options: InProcessOptions = {}): Promise<InProcessParties> {
  const { databaseUrls, secrets, envs } = wire({
    ports: await freePorts(),
    databaseUrls: await freshPartyDatabases(),
    secrets: options.secrets,
    env: { LOG_LEVEL: 'silent', ...options.env },
  });
  const started: ServiceHandle[] = [];
  const stop = async () => {
    // The shop first (it calls the gateway), then the gateway (it calls the bank).
    for (const s of [...started].reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const bank = await startBank(loadBankConfig(envs.bank), {
      log: createLogger('bank', 'silent'),
      ...(options.bankPollMs ? { workerPollMs: options.bankPollMs } : {}),
    });
    started.push(bank);
    const gateway = await startGateway(loadGatewayConfig(envs.gateway), { log: createLogger('gateway', 'silent') });
    started.push(gateway);
    const shopDeps = {
      log: createLogger('shop', 'silent'),
      ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
      ...(options.clock ? { clock: options.clock } : {}),
    };
    const shop = await startShop(loadShopConfig(envs.shop), shopDeps);
    started.push(shop);
    return { shop, gateway, bank, databaseUrls, secrets, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ProofSystem extends InProcessParties {
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
  gatewayApi(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Fills the cart and walks the checkout up to step 4; returns the cart id the "Pay now" form carries. */
  checkout(client: ShopClient, lines?: CartLine[]): Promise<string>;
  /** Checkout + "Pay now": the invoice, the attempt and the gateway session. */
  payNow(
    client: ShopClient,
    lines?: CartLine[],
  ): Promise<{ invoiceId: string; orderId: string; sessionId: string; attemptId: string }>;
  /** Pays a session with a card on the hosted page's endpoint. */
  payCard(sessionId: string, number?: string): Promise<Response>;
  /** The gateway's session as its API shows it. */
  session(
    sessionId: string,
  ): Promise<{ status: string; captured_amount?: unknown; refunded_amount?: unknown } & Record<string, unknown>>;
  /** Waits until the gateway session reaches one of `statuses`. */
  settled(sessionId: string, statuses?: string[], ms?: number): Promise<Record<string, unknown>>;
  /** POSTs a body to the shop's webhook intake signed with the real secret (or `secret`). */
  deliver(
    event: { id: string } & Record<string, unknown>,
    options?: { secret?: string; timestamp?: Date },
  ): Promise<Response>;
}

/** The settings of the proof suites: fast job polling, clients told apart by their forwarded address, generous limits. */
const PROOF_ENV: Readonly<Record<string, string>> = {
  SHOP_TRUST_PROXY: 'true',
  SHOP_JOB_POLL_MS: '50',
  GATEWAY_JOB_POLL_MS: '50',
  SHOP_LOGIN_MAX_FAILURES: '1000',
  // The suites send their forgeries from one address; the limit itself has its own proof (adversarial-intake).
  SHOP_WEBHOOK_REFUSALS_PER_MINUTE: '1000000',
};

/** The parties in process (the shop's worker off unless `jobs`) with the customer-side steps of the proof suites. */
export async function startProofSystem(
  options: { jobs?: boolean; shopEnv?: Record<string, string>; clock?: Clock } = {},
): Promise<ProofSystem> {
  const parties = await startInProcess({
    env: { ...PROOF_ENV, ...options.shopEnv },
    secrets: { demoMerchantApiKey: TEST_API_KEY },
    jobs: options.jobs ?? false,
    bankPollMs: 100,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { shop, gateway } = parties;
  const productIds = (await listProducts(shop.database.db)).map((p) => p.id);
  const deliveryIds = (await listDeliveryMethods(shop.database.db)).map((d) => d.id);
  let ip = 0;
  const client = () =>
    new ShopClient(
      { request: (p, i) => fetch(`${shop.url}${p}`, { ...i, redirect: 'manual' }) },
      `198.18.${Math.floor(++ip / 250)}.${(ip % 250) + 1}`,
    );
  const gatewayApi: ProofSystem['gatewayApi'] = (path, init = {}) =>
    fetch(`${gateway.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${TEST_API_KEY}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
  const session: ProofSystem['session'] = async (id) =>
    (await (await gatewayApi(`/v1/payment_sessions/${id}`)).json()) as never;
  const system: ProofSystem = {
    ...parties,
    shopDb: shop.database,
    gatewayDb: gateway.database,
    bankDb: parties.bank.database,
    webhookSecret: parties.secrets.demoMerchantWebhookSecret,
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
      return checkoutForm(c, { lines, deliveryMethodId: deliveryIds[0]! });
    },
    async payNow(c, lines) {
      const cartId = await system.checkout(c, lines);
      const res = await c.send('/checkout/pay', { form: { cartId } });
      const location = res.headers.get('location') ?? '';
      assert.ok(
        location.startsWith(`${gateway.url}/pay/ps_`),
        `"Pay now" sends to the hosted page, got ${res.status} ${location}`,
      );
      const sessionId = location.slice(location.lastIndexOf('/') + 1);
      const [attempt] = await shop.database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      const [invoice] = await shop.database.db.select().from(invoices).where(eq(invoices.id, attempt!.invoiceId));
      return { invoiceId: attempt!.invoiceId, orderId: invoice!.orderId, sessionId, attemptId: attempt!.id };
    },
    payCard: (sessionId, number) =>
      fetch(`${gateway.url}/pay/${sessionId}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cardDetails(number)),
      }),
    session,
    settled: (id, statuses = ['captured', 'voided', 'declined'], ms = 20_000) =>
      eventually(
        async () => {
          const s = await session(id);
          return statuses.includes(s.status) ? s : undefined;
        },
        ms,
        `session ${id} to reach ${statuses.join('|')}`,
      ),
    async deliver(event, opts = {}) {
      const body = JSON.stringify(event);
      const headers = signWebhook({
        id: event.id,
        timestamp: opts.timestamp ?? options.clock?.now() ?? new Date(),
        body,
        secrets: [opts.secret ?? system.webhookSecret],
      });
      return fetch(`${shop.url}/webhooks/gateway`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
    },
  };
  return system;
}
