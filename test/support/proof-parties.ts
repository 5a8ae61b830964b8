// Proof suites: the shop, the gateway and the bank started in this process, wired to each other as
// `npm start` wires them (src/main.ts partyEnvironments), each over real HTTP on its own port and its
// own fresh PostgreSQL database. The handles give tests the Hono apps (app.routes) and databases.
import { bankDatabaseSpec, loadBankConfig, startBank } from '../../src/bank/main.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../../src/platform/db/testing.ts';
import { createLogger } from '../../src/platform/log.ts';
import type { ServiceHandle } from '../../src/platform/service.ts';
import { gatewayDatabaseSpec, loadGatewayConfig, startGateway } from '../../src/gateway/main.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../../src/shop/main.ts';
import { newSecrets } from '../../src/main.ts';
import { freePort } from './system.ts';

export interface Parties {
  readonly shop: ServiceHandle;
  readonly gateway: ServiceHandle;
  readonly bank: ServiceHandle;
  readonly databaseUrls: { readonly shop: string; readonly gateway: string; readonly bank: string };
  /** The shared secrets, as src/main.ts would generate them. */
  readonly secrets: {
    readonly demoMerchantApiKey: string;
    readonly demoMerchantWebhookSecret: string;
    readonly bankGatewayKey: string;
    readonly bankCallbackSecret: string;
    readonly shopSessionSecret: string;
  };
  stop(): Promise<void>;
}

/** Starts bank, gateway and shop (in that order) on fresh PostgreSQL databases; `env` overrides. */
export async function startParties(env: Record<string, string> = {}): Promise<Parties> {
  const secrets = newSecrets();
  const ports = { shop: await freePort(), gateway: await freePort(), bank: await freePort() };
  const url = (p: number) => `http://127.0.0.1:${p}`;
  const [shopDb, gatewayDb, bankDb] = await Promise.all([shopDatabaseSpec, gatewayDatabaseSpec, bankDatabaseSpec].map(async (s) => databaseUrl(await freshPostgresDatabaseName(s))));
  const wiring: Record<string, string> = {
    LOG_LEVEL: 'silent',
    SHOP_PORT: String(ports.shop),
    GATEWAY_PORT: String(ports.gateway),
    BANK_PORT: String(ports.bank),
    SHOP_HOST: '127.0.0.1',
    GATEWAY_HOST: '127.0.0.1',
    BANK_HOST: '127.0.0.1',
    SHOP_PUBLIC_URL: url(ports.shop),
    GATEWAY_PUBLIC_URL: url(ports.gateway),
    BANK_PUBLIC_URL: url(ports.bank),
    SHOP_DATABASE_URL: shopDb!,
    GATEWAY_DATABASE_URL: gatewayDb!,
    BANK_DATABASE_URL: bankDb!,
    GATEWAY_DEMO_MERCHANT_API_KEY: secrets.demoMerchantApiKey,
    GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: secrets.demoMerchantWebhookSecret,
    GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: `${url(ports.shop)}/webhooks/gateway`,
    SHOP_GATEWAY_URL: url(ports.gateway),
    SHOP_GATEWAY_API_KEY: secrets.demoMerchantApiKey,
    SHOP_GATEWAY_WEBHOOK_SECRETS: secrets.demoMerchantWebhookSecret,
    SHOP_SESSION_SECRET: secrets.shopSessionSecret,
    GATEWAY_BANK_URL: url(ports.bank),
    GATEWAY_BANK_KEY: secrets.bankGatewayKey,
    BANK_GATEWAY_KEY: secrets.bankGatewayKey,
    BANK_GATEWAY_CALLBACK_URL: `${url(ports.gateway)}/bank/callbacks`,
    BANK_CALLBACK_SECRET: secrets.bankCallbackSecret,
    GATEWAY_BANK_CALLBACK_SECRET: secrets.bankCallbackSecret,
    ...env,
  };
  const started: ServiceHandle[] = [];
  try {
    const bank = await startBank(loadBankConfig(wiring), { log: createLogger('bank', 'silent') });
    started.push(bank);
    const gateway = await startGateway(loadGatewayConfig(wiring), { log: createLogger('gateway', 'silent') });
    started.push(gateway);
    const shop = await startShop(loadShopConfig(wiring), { log: createLogger('shop', 'silent') });
    started.push(shop);
    return {
      shop,
      gateway,
      bank,
      databaseUrls: { shop: shopDb!, gateway: gatewayDb!, bank: bankDb! },
      secrets,
      stop: async () => {
        // The shop first (it calls the gateway), then the gateway (it calls the bank).
        for (const s of [...started].reverse()) await s.stop();
      },
    };
  } catch (err) {
    for (const s of [...started].reverse()) await s.stop().catch(() => undefined);
    throw err;
  }
}
