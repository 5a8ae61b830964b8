// For the dispute tests: a real bank and a real gateway (in process, over real HTTP, on one engine),
// wired to each other, with the demo merchant's native webhooks going to a receiver, a Stripe-format
// endpoint verified with `stripe.webhooks.constructEvent`, a second merchant (the attacker's view), and
// the helpers of a payer (pay on the hosted page), a cardholder (dispute in the bank app) and a bank
// callback signer (to forge and replay callbacks).
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { sql } from 'drizzle-orm';
import { newWebhookSecret } from '../../src/core/webhook-signature.ts';
import { bankDatabaseSpec, loadBankConfig, startBank } from '../../src/bank/main.ts';
import { DEMO_CARDHOLDER } from '../../src/bank/storage/seed-demo.ts';
import { logIn } from '../../src/bank/testing.ts';
import { upsertMerchant } from '../../src/gateway/storage/merchants.ts';
import {
  eventually,
  startTestGateway,
  TEST_API_KEY,
  TEST_STRIPE_API_KEY,
  webhookReceiver,
} from '../../src/gateway/testing.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { rows, type Engine } from '../../src/platform/db/database.ts';
import { freshDatabase } from '../../src/platform/db/testing.ts';
import { signedRequestHeaders } from '../../src/platform/http/signed-request.ts';
import type { ServiceHandle } from '../../src/platform/service.ts';
import { APPROVED_CARD, cardDetails } from './factories.ts';
import { freePort } from './harness/wiring.ts';
import { stripeReceiver } from './stripe-events-support.ts';
import { OTHER_NATIVE_KEY, OTHER_STRIPE_KEY, stripeClient } from './stripe-gateway.ts';

export { OTHER_NATIVE_KEY, OTHER_STRIPE_KEY };

/** The whole system for disputes, on one engine; `windowSeconds` is BANK_DISPUTE_WINDOW_SECONDS. */
export async function startDisputeSystem(engine: Engine, options: { windowSeconds: number }) {
  const key = newWebhookSecret();
  const callbackSecret = newWebhookSecret();
  const [gatewayPort, bankPort] = [await freePort(), await freePort()];
  const bankUrl = `http://127.0.0.1:${bankPort}`;
  const callbackUrl = `http://127.0.0.1:${gatewayPort}/bank/callbacks`;
  const bank: ServiceHandle = await startBank(
    loadBankConfig({
      BANK_PORT: String(bankPort),
      BANK_GATEWAY_KEY: key,
      BANK_GATEWAY_CALLBACK_URL: callbackUrl,
      BANK_CALLBACK_SECRET: callbackSecret,
      BANK_DISPUTE_WINDOW_SECONDS: String(options.windowSeconds),
      LOG_LEVEL: 'silent',
    }),
    { database: await freshDatabase(bankDatabaseSpec, engine), workerPollMs: 100 },
  );
  const shop = await webhookReceiver();
  const link = await bankLink(bankUrl);
  const gw = await startTestGateway(engine, {
    port: gatewayPort,
    bank: { url: link.url, key, callbackSecret },
    webhookUrl: shop.url,
  });
  await upsertMerchant(
    gw.database.db,
    {
      name: 'Another shop',
      webhookUrl: null,
      apiKey: OTHER_NATIVE_KEY,
      stripeApiKey: OTHER_STRIPE_KEY,
      webhookSecret: newWebhookSecret(),
    },
    systemClock,
  );
  const stripe = stripeClient(gw.url, TEST_STRIPE_API_KEY);
  const stripeHooks = await stripeReceiver(stripe);
  const endpoint = await stripe.webhookEndpoints.create({
    url: stripeHooks.url,
    enabled_events: ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed'],
  });
  stripeHooks.setSecret(endpoint.secret!);

  const sessionRow = async (sessionId: string) => {
    const [row] = await rows<{ bank_authorization_id: string; status: string }>(
      gw.database.db,
      sql`select bank_authorization_id, status from payment_sessions where id = ${sessionId}`,
    );
    return row!;
  };
  const api = (path: string, init: { body?: unknown; key?: string } = {}) => gw.api(path, init);

  return {
    gw,
    bank,
    bankUrl,
    shop,
    stripe,
    other: stripeClient(gw.url, OTHER_STRIPE_KEY),
    stripeHooks,
    webhookSecret: gw.webhookSecret,
    /** The gateway's line to the bank: `link.down = true` makes every call answer 503. */
    link,
    api,
    sessionRow,
    /** A native payment of `minor` EUR cents, paid on the hosted page and captured (the shop acknowledges). */
    /** A native payment of `minor` EUR cents, paid on the hosted page with `card` (the demo card by default) and captured. */
    async capturedNativePayment(minor: number, card?: string): Promise<string> {
      const res = await api('/v1/payment_sessions', {
        body: {
          amount: { minor: String(minor), currency: 'EUR' },
          merchant_reference: `inv_${randomBytes(4).toString('hex')}`,
        },
      });
      const s = (await res.json()) as { id: string };
      await payOnPage(gw.url, s.id, card);
      await eventually(
        async () => ((await sessionRow(s.id)).status === 'captured' ? true : undefined),
        15_000,
        'captured',
      );
      return s.id;
    },
    /** Logs a cardholder in (the demo one by default). */
    cardholder: (email = DEMO_CARDHOLDER.email, password = DEMO_CARDHOLDER.password) => logIn(bankUrl, email, password),
    /** The cardholder disputes the payment behind a session in the bank app (a form POST, as the page sends it). */
    async dispute(
      holder: { cookie: string; csrf: string },
      sessionId: string,
      reason = 'fraudulent',
      amount?: string,
    ): Promise<Response> {
      const auth = (await sessionRow(sessionId)).bank_authorization_id;
      return fetch(`${bankUrl}/app/disputes`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: holder.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: holder.csrf, authorization_id: auth, reason, ...(amount ? { amount } : {}) }),
      });
    },
    /** The gateway's dispute of a session, once it arrived. */
    async gatewayDispute(sessionId: string, key = TEST_API_KEY): Promise<Dispute> {
      return eventually(
        async () => {
          const res = await api(`/v1/disputes?payment_session=${sessionId}`, { key });
          const list = (await res.json()) as { data: Dispute[] };
          return list.data[0];
        },
        15_000,
        `dispute of ${sessionId}`,
      );
    },
    /** Waits until the dispute's status is `status`. */
    async disputeIs(id: string, status: string): Promise<Dispute> {
      return eventually(
        async () => {
          const d = (await (await api(`/v1/disputes/${id}`)).json()) as Dispute;
          return d.status === status ? d : undefined;
        },
        15_000,
        `dispute ${id} ${status}`,
      );
    },
    /** POSTs a body to the gateway's bank callback URL signed with `secret` (the bank's by default). */
    /** `send()` posts it; `send()` again replays the very same signed request. */
    signedCallback(body: unknown, options: { secret?: string } = {}) {
      const raw = JSON.stringify(body);
      const headers = signedRequestHeaders({
        method: 'POST',
        url: callbackUrl,
        body: raw,
        secrets: [options.secret ?? callbackSecret],
        clock: systemClock,
      });
      return {
        async send() {
          const res = await fetch(callbackUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: raw,
          });
          return { status: res.status, body: await res.text() };
        },
      };
    },
    async stop() {
      await gw.stop();
      await bank.stop();
      await shop.close();
      await stripeHooks.close();
      await link.close();
    },
  };
}

export type DisputeSystem = Awaited<ReturnType<typeof startDisputeSystem>>;

export interface Dispute {
  id: string;
  object: 'dispute';
  payment_session: string;
  amount: number;
  currency: string;
  reason: string;
  status: string;
  evidence_due_by: string;
  created: string;
}

/** A pass-through HTTP proxy from the gateway to the bank that can be cut (503) and restored. */
async function bankLink(bankUrl: string) {
  const state = { down: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.down) return void res.writeHead(503).end('{"error":{"code":"cut"}}');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers[k] = v;
      const body = Buffer.concat(chunks);
      fetch(`${bankUrl}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body.length ? { body } : {}) })
        .then(async (r) =>
          res
            .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' })
            .end(Buffer.from(await r.arrayBuffer())),
        )
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The payer pays on the hosted page, as its script does. */
export async function payOnPage(gatewayUrl: string, sessionId: string, number = APPROVED_CARD): Promise<void> {
  const res = await fetch(`${gatewayUrl}/pay/${sessionId}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(cardDetails(number)),
  });
  if (res.status !== 200) throw new Error(`hosted page answered ${res.status}: ${await res.text()}`);
}
