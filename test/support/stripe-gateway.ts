// A gateway and a real bank (both in process, fresh PGlite databases) for the Stripe-edge tests, with
// the official `stripe` SDK pointed at the gateway, a second merchant (the attacker's view), and the
// helpers a payer and a cardholder use: paying on the hosted page over HTTP, approving in the bank app.
import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { newWebhookSecret } from '../../src/core/webhook-signature.ts';
import { bankDatabaseSpec, loadBankConfig, startBank } from '../../src/bank/main.ts';
import { DEMO_CARDHOLDER } from '../../src/bank/storage/seed-demo.ts';
import { logIn } from '../../src/bank/testing.ts';
import { createBankAdapter } from '../../src/gateway/issuer/bank.adapter.ts';
import { upsertMerchant } from '../../src/gateway/storage/merchants.ts';
import { startTestGateway, TEST_API_KEY, TEST_STRIPE_API_KEY } from '../../src/gateway/testing.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { rows } from '../../src/platform/db/database.ts';
import { freshDatabase } from '../../src/platform/db/testing.ts';
import type { ServiceHandle } from '../../src/platform/service.ts';
import { cardDetails } from './factories.ts';
import { freePort } from './harness/wiring.ts';

export const OTHER_STRIPE_KEY = 'sk_test_othermerchantstripekey0123456';
export const OTHER_NATIVE_KEY = 'sk_test_othermerchantnativekey0123456';

/** The official SDK against a local gateway. */
export function stripeClient(url: string, key: string): Stripe {
  const { hostname, port, protocol } = new URL(url);
  return new Stripe(key, {
    host: hostname,
    port: Number(port),
    protocol: protocol.replace(':', '') as 'http',
    maxNetworkRetries: 0,
  });
}

/**
 * Starts the bank and the gateway wired to each other, the demo merchant with both keys and a second
 * merchant; `webhookUrl` is where the demo merchant's native webhooks go (none by default), and
 * `ackWindowSeconds` how long an authorisation waits for the merchant's capture (default 900 s).
 */
export async function startStripeSystem(options: { webhookUrl?: string; ackWindowSeconds?: number } = {}) {
  const key = newWebhookSecret();
  const callbackSecret = newWebhookSecret();
  const [gatewayPort, bankPort] = [await freePort(), await freePort()];
  const bankUrl = `http://127.0.0.1:${bankPort}`;
  const bank: ServiceHandle = await startBank(
    loadBankConfig({
      BANK_PORT: String(bankPort),
      BANK_GATEWAY_KEY: key,
      BANK_GATEWAY_CALLBACK_URL: `http://127.0.0.1:${gatewayPort}/bank/callbacks`,
      BANK_CALLBACK_SECRET: callbackSecret,
      BANK_PROCESSING_DELAY_SECONDS: '1',
      LOG_LEVEL: 'silent',
    }),
    { database: await freshDatabase(bankDatabaseSpec, 'pglite'), workerPollMs: 100 },
  );
  const gw = await startTestGateway('pglite', {
    port: gatewayPort,
    bank: { url: bankUrl, key, callbackSecret },
    ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
    ...(options.ackWindowSeconds ? { ackWindowSeconds: options.ackWindowSeconds } : {}),
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
  const adapter = createBankAdapter({ baseUrl: bankUrl, key, clock: systemClock });
  const sessionRow = async (sessionId: string) => {
    const [row] = await rows<{ bank_authorization_id: string | null; status: string; captured_minor: string }>(
      gw.database.db,
      sql`select bank_authorization_id, status, captured_minor::text from payment_sessions where id = ${sessionId}`,
    );
    return row!;
  };
  return {
    gw,
    bank,
    bankUrl,
    stripe: stripeClient(gw.url, TEST_STRIPE_API_KEY),
    other: stripeClient(gw.url, OTHER_STRIPE_KEY),
    nativeKey: TEST_API_KEY,
    sessionRow,
    /** The authorisation's status at the bank (authorized, captured, voided, refunded…). */
    bankStatus: async (sessionId: string) => {
      const row = await sessionRow(sessionId);
      return (await adapter.status(row.bank_authorization_id!)).status;
    },
    /** The payer pays on the hosted page, as its script does it. */
    payOnPage: async (hostedUrl: string, number = '4242424242424242') => {
      const res = await fetch(`${hostedUrl}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cardDetails(number)),
      });
      return { status: res.status, body: (await res.json()) as { status: string } };
    },
    /** The demo cardholder approves the pending authorisation of a session in the bank app. */
    approveInBankApp: async (sessionId: string) => {
      const row = await sessionRow(sessionId);
      const holder = await logIn(bankUrl, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
      const [approval] = await rows<{ id: string }>(
        bank.database.db,
        sql`select id from approval_requests where authorization_id = ${row.bank_authorization_id}`,
      );
      return fetch(`${bankUrl}/app/approvals/${approval!.id}/approve`, {
        method: 'POST',
        headers: { cookie: holder.cookie, 'x-csrf-token': holder.csrf, accept: 'application/json' },
      });
    },
    stop: async () => {
      await gw.stop();
      await bank.stop();
    },
  };
}

export type StripeSystem = Awaited<ReturnType<typeof startStripeSystem>>;
