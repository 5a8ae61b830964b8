// A shop started in process on a fresh database with the fake gateway, sending its mail over real SMTP
// to the mail catcher running as a separate process; a customer and a staff member logged in, and the
// steps the mail tests share: pay now, deliver a signed webhook, the mails about one order.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { eq } from 'drizzle-orm';
import { newWebhookSecret } from '../../src/core/webhook-signature.ts';
import type { Database, Engine } from '../../src/platform/db/database.ts';
import { freshDatabase } from '../../src/platform/db/testing.ts';
import type { ServiceHandle } from '../../src/platform/service.ts';
import { FakeGateway, signedDelivery } from '../../src/shop/adapters/gateway.fake.ts';
import { shopMails } from '../../src/shop/mail/mail.schema.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../../src/shop/storage/catalog.ts';
import { invoices, orders } from '../../src/shop/storage/tables.ts';
import { address } from './factories.ts';
import { type CatcherProcess, type InboxMail, startCatcherProcess } from './mail.ts';
import { ShopClient } from './shop-client.ts';

const SECRET = 'mail-test-session-secret-'.padEnd(48, 'x');

/** The running shop and its helpers; filled in by the `before` hook `useMailShop` registers. */
export interface MailShop {
  shop: ServiceHandle;
  database: Database;
  catcher: CatcherProcess;
  readonly gateway: FakeGateway;
  readonly webhookSecret: string;
  customer: ShopClient;
  staff: ShopClient;
  productId: string;
  deliveryId: string;
  /** Another browser (its own cookies) from the given address. */
  readonly client: (address: string) => ShopClient;
}

/** Registers the before/after hooks of the enclosing `describe` and returns the shop they start. */
export function useMailShop(engine: Engine): MailShop {
  const app = { request: (path: string, init?: RequestInit) => m.shop.app.request(path, init) };
  const client = (address: string) => new ShopClient(app, address);
  const m = { gateway: new FakeGateway(), webhookSecret: newWebhookSecret(), client } as MailShop;
  before(async () => {
    m.catcher = await startCatcherProcess();
    m.database = await freshDatabase(shopDatabaseSpec, engine);
    const config = loadShopConfig({
      SHOP_PORT: '0',
      SHOP_SESSION_SECRET: SECRET,
      LOG_LEVEL: 'silent',
      SHOP_GATEWAY_WEBHOOK_SECRETS: m.webhookSecret,
      SHOP_SMTP_URL: m.catcher.smtpUrl,
      SHOP_JOB_POLL_MS: '100',
      SHOP_SMTP_TIMEOUT_MS: '3000',
      SHOP_PUBLIC_URL: 'http://shop.test',
    });
    m.shop = await startShop(config, { database: m.database, gateway: m.gateway });
    m.productId = (await listProducts(m.database.db))[0]!.id;
    m.deliveryId = (await listDeliveryMethods(m.database.db))[0]!.id;
    m.customer = new ShopClient(app, '198.51.100.20');
    m.staff = new ShopClient(app, '198.51.100.21');
    assert.equal((await m.customer.login('customer@shop.test', 'demo-customer-password')).status, 303);
    assert.equal((await m.staff.login('staff@shop.test', 'demo-staff-password')).status, 303);
  });
  after(async () => {
    await m.shop?.stop();
    await m.catcher?.stop();
  });
  return m;
}

/** Checks out two of the first product and presses "Pay now": the gateway session, invoice and order. */
export async function payNow(m: MailShop) {
  const { customer, gateway, database } = m;
  await customer.emptyCart();
  await customer.send('/cart/add', { form: { productId: m.productId, quantity: '2' } });
  await customer.send('/checkout/delivery', { form: { deliveryMethodId: m.deliveryId } });
  await customer.send('/checkout/address', { form: address() });
  const page = await (await customer.send('/checkout/pay')).text();
  const cartId = /name="cartId" value="([^"]+)"/.exec(page)![1]!;
  const res = await customer.send('/checkout/pay', { form: { cartId } });
  const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
  const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
  const [invoice] = await database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
  const [order] = await database.db.select().from(orders).where(eq(orders.id, invoice!.orderId));
  return { sessionId, invoice: invoice!, order: order! };
}

/** Delivers a gateway event to the shop's webhook, signed with the shop's secret. */
export function deliver(m: MailShop, event: { id: string }): Promise<Response> {
  const d = signedDelivery(event, [m.webhookSecret]);
  return Promise.resolve(m.shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body }));
}

/** The mails in an inbox whose subject names the order. */
export const about = (orderId: string) => (mails: InboxMail[]) => mails.filter((m) => m.subject.includes(orderId));

/** The order's rows in the shop's mail outbox. */
export const mailRows = (m: MailShop, orderId: string) =>
  m.database.db.select().from(shopMails).where(eq(shopMails.orderId, orderId));
