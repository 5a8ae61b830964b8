// The invoice's real-time room on the shop's /ws, on both engines: only the invoice's owner or staff
// may join (from the shop_session cookie of the upgrade request, same-origin only), and a status
// change committed by the webhook intake reaches the joined socket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { connectTestSocket, type TestSocket } from '../src/platform/realtime/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { FakeGateway, signedDelivery } from '../src/shop/adapters/gateway.fake.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { paymentAttempts } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO, checkoutForm } from './support/factories.ts';

for (const engine of testEngines()) {
  describe(`invoice room on /ws (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const gateway = new FakeGateway();
    const secret = newWebhookSecret();
    const app = { request: (p: string, i?: RequestInit) => shop.app.request(p, i) };
    const sockets: TestSocket[] = [];
    let owner: ShopClient;
    let invoiceId = '';
    let sessionId = '';

    const login = async (email: string, password: string) => {
      const c = new ShopClient(app, `198.51.100.${30 + sockets.length}`);
      assert.equal((await c.login(email, password)).status, 303);
      return c;
    };
    const wsUrl = () => `${shop.url.replace('http:', 'ws:')}/ws`;
    const open = async (client?: ShopClient, origin?: string) => {
      const headers: Record<string, string> = {};
      if (client) headers.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      if (origin) headers.origin = origin;
      const s = await connectTestSocket(wsUrl(), { headers });
      sockets.push(s);
      return s;
    };
    const join = async (s: TestSocket) => {
      s.send({ type: 'join', room: `invoice:${invoiceId}` });
      return s.next((f) => f.type === 'joined' || f.type === 'error');
    };

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      shop = await startShop(
        loadShopConfig({
          SHOP_PORT: '0',
          SHOP_SESSION_SECRET: 'rt-secret'.padEnd(40, 'x'),
          LOG_LEVEL: 'silent',
          SHOP_TRUST_PROXY: 'true',
          SHOP_GATEWAY_WEBHOOK_SECRETS: secret,
        }),
        { database, gateway, jobs: false },
      );
      owner = await login(...DEMO.customer);
      const productId = (await listProducts(database.db))[0]!.id;
      const cartId = await checkoutForm(owner, {
        lines: [{ productId, quantity: 1 }],
        deliveryMethodId: (await listDeliveryMethods(database.db))[0]!.id,
      });
      const res = await owner.send('/checkout/pay', { form: { cartId } });
      sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
      invoiceId = (
        await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, sessionId))
      )[0]!.invoiceId;
    });
    after(async () => {
      for (const s of sockets) await s.close().catch(() => undefined);
      await shop?.stop();
    });

    it('lets the owner and staff join the invoice room, and nobody else (another customer, no cookie, another site)', async () => {
      assert.equal((await join(await open(owner))).type, 'joined');
      assert.equal((await join(await open(await login(...DEMO.staff)))).type, 'joined');
      assert.equal((await join(await open(await login(...DEMO.other)))).type, 'error');
      assert.equal((await join(await open())).type, 'error');
      assert.equal((await join(await open(owner, 'http://evil.example'))).type, 'error');
    });

    it('pushes the status change to the joined page when the webhook commits', async () => {
      const s = await open(owner);
      assert.equal((await join(s)).type, 'joined');
      const event = gateway.move(sessionId, 'authorized');
      const d = signedDelivery(event, [secret]);
      const started = Date.now();
      assert.equal(
        (await shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body })).status,
        200,
      );
      const frame = await s.next(
        (f) => f.type === 'message' && (f.payload as { status?: string }).status === 'paid',
        5000,
      );
      assert.equal(frame.type, 'message');
      assert.ok(Date.now() - started < 5000);
    });

    it('serves the invoice page with its external script (WebSocket, polling fallback, leave warning)', async () => {
      const html = await (await owner.send(`/invoices/${invoiceId}`)).text();
      assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script');
      const js = await (await shop.app.request('/assets/invoice.js')).text();
      assert.match(js, /new WebSocket/);
      assert.match(js, /\/api\/invoices\/' \+ id \+ '\/status/);
      assert.match(js, /beforeunload/);
    });
  });
}
