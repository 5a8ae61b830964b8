// The shop's retention job on both engines, against the real shop (in process, real HTTP for the
// WebSocket) whose clock is the only fake: advancing the clock makes the recurring `shop.retention.prune`
// due, and the shop's own worker runs it. Real-time messages go after a day, succeeded jobs after
// SHOP_JOB_RETENTION_DAYS, verified webhook receipts after SHOP_WEBHOOK_RECEIPT_RETENTION_DAYS — by age
// only: a failed job, pending recurring jobs and younger rows stay. A watcher that joins the invoice
// room after its messages were pruned still gets the next change, and the staff pages say for how long
// receipts are kept rather than promising all of them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { eventually } from '../src/gateway/testing.ts';
import { fakeClock } from '../src/platform/clock.ts';
import { rows, type Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { enqueue } from '../src/platform/jobs/enqueue.ts';
import { connectTestSocket, type TestSocket } from '../src/platform/realtime/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway, signedDelivery } from '../src/shop/adapters/gateway.fake.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { paymentAttempts } from '../src/shop/storage/tables.ts';
import { DEMO, checkoutForm } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 5, 1, 10);

for (const engine of testEngines()) {
  describe(`shop retention (${engine})`, () => {
    const clock = fakeClock(T0);
    const gateway = new FakeGateway();
    const secret = newWebhookSecret();
    const sockets: TestSocket[] = [];
    const app = { request: (p: string, i?: RequestInit) => shop.app.request(p, i) };
    let shop: ServiceHandle;
    let database: Database;
    let owner: ShopClient;
    let staff: ShopClient;
    let invoiceId = '';
    let orderId = '';
    let sessionId = '';

    const count = async (query: ReturnType<typeof sql>) =>
      Number((await rows<{ n: number | string }>(database.db, query))[0]?.n);
    const receipts = () => count(sql`select count(*)::int as n from webhook_receipts`);
    const messages = () =>
      count(sql`select count(*)::int as n from realtime_messages where room = ${`invoice:${invoiceId}`}`);
    const jobsIn = (status: string) =>
      count(sql`select count(*)::int as n from jobs where status = ${status} and repeat_seconds is null`);
    const failedOne = () =>
      count(sql`select count(*)::int as n from jobs where key = 'test:failed' and status = 'failed'`);
    const recurring = () => count(sql`select count(*)::int as n from jobs where repeat_seconds is not null`);
    /** Moves the clock on and waits until the shop's worker has run the retention job at the new time. */
    const advanceAndPrune = async (ms: number) => {
      clock.advance(ms);
      await eventually(
        async () => {
          const [j] = await rows<{ status: string; run_at: string | Date }>(
            database.db,
            sql`select status, run_at from jobs where key = 'recurring:shop.retention.prune'`,
          );
          return j?.status === 'pending' && new Date(j.run_at).getTime() > clock.now().getTime() ? true : undefined;
        },
        10_000,
        'the retention job to run after the clock moved',
      );
    };
    const deliver = async (status: string) => {
      const d = signedDelivery(gateway.move(sessionId, status), [secret], clock.now());
      const res = await shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body });
      assert.equal(res.status, 200);
    };
    const login = async (who: 'customer' | 'staff', n: number) => {
      const c = new ShopClient(app, `198.51.100.${70 + n}`);
      const [email, password] = DEMO[who];
      assert.equal((await c.login(email, password)).status, 303);
      return c;
    };

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const env = {
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: 'retention-secret'.padEnd(40, 'x'),
        LOG_LEVEL: 'silent',
        SHOP_TRUST_PROXY: 'true',
        SHOP_GATEWAY_WEBHOOK_SECRETS: secret,
        SHOP_SESSION_TTL_SECONDS: String(100 * 86_400),
        SHOP_JOB_POLL_MS: '50',
      };
      shop = await startShop(loadShopConfig(env), { database, gateway, clock });
      owner = await login('customer', 1);
      staff = await login('staff', 2);
      const cartId = await checkoutForm(owner, {
        lines: [{ productId: (await listProducts(database.db))[0]!.id, quantity: 1 }],
        deliveryMethodId: (await listDeliveryMethods(database.db))[0]!.id,
      });
      const res = await owner.send('/checkout/pay', { form: { cartId } });
      sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
      const [attempt] = await database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      invoiceId = attempt!.invoiceId;
      orderId = (
        await rows<{ order_id: string }>(database.db, sql`select order_id from invoices where id = ${invoiceId}`)
      )[0]!.order_id;
      await deliver('authorized');
      // A job the operators must see: an unknown task fails for good at its first attempt.
      await enqueue(database.db, { task: 'shop.test.no_such_task', key: 'test:failed', maxAttempts: 1 }, clock);
      await eventually(async () => ((await failedOne()) === 1 && (await jobsIn('succeeded')) > 0 ? true : undefined));
    });
    after(async () => {
      for (const s of sockets) await s.close().catch(() => undefined);
      await shop?.stop();
    });

    it('registers the retention job beside the other recurring jobs', async () => {
      const [job] = await rows<{ repeat_seconds: number }>(
        database.db,
        sql`select repeat_seconds from jobs where key = 'recurring:shop.retention.prune'`,
      );
      assert.equal(job?.repeat_seconds, 15 * 60);
    });

    it('after a day deletes the real-time messages only; receipts and jobs stay', async () => {
      assert.ok((await messages()) > 0, 'the payment was announced in the invoice room');
      const [receiptsBefore, succeededBefore, recurringBefore] = [
        await receipts(),
        await jobsIn('succeeded'),
        await recurring(),
      ];
      await advanceAndPrune(25 * HOUR);
      assert.equal(await messages(), 0);
      assert.equal(await receipts(), receiptsBefore);
      assert.ok((await jobsIn('succeeded')) >= succeededBefore, 'no succeeded job is a day old only');
      assert.equal(await failedOne(), 1);
      assert.equal(await recurring(), recurringBefore);
    });

    it('a watcher joining the pruned invoice room gets the next change', async () => {
      const cookie = [...owner.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const s = await connectTestSocket(`${shop.url.replace('http:', 'ws:')}/ws`, { headers: { cookie } });
      sockets.push(s);
      s.send({ type: 'join', room: `invoice:${invoiceId}` });
      assert.equal((await s.next((f) => f.type === 'joined' || f.type === 'error')).type, 'joined');
      await deliver('captured');
      const frame = await s.next((f) => f.type === 'message', 5000);
      assert.equal((frame as { payload: { invoiceId?: string } }).payload.invoiceId, invoiceId);
    });

    it('after seven days deletes the jobs that succeeded before; the failed one and the schedules stay', async () => {
      const recurringBefore = await recurring();
      const target = T0 + 7 * DAY + 2 * HOUR;
      const cutoff = new Date(target - 7 * DAY).toISOString();
      const oldSucceeded = () =>
        count(
          sql`select count(*)::int as n from jobs where status = 'succeeded' and updated_at < ${cutoff}::timestamptz`,
        );
      assert.ok((await oldSucceeded()) > 0, 'the jobs of the payment will be older than the retention');
      await advanceAndPrune(target - clock.now().getTime());
      assert.equal(await oldSucceeded(), 0);
      assert.equal(await failedOne(), 1, 'the operators still see the failed job');
      assert.equal(await recurring(), recurringBefore);
      assert.equal(await receipts(), 2, 'the receipts of the authorisation and the capture stay');
    });

    it('after 30 days deletes each receipt by its age, and the staff pages say so instead of promising all', async () => {
      await advanceAndPrune(T0 + 30 * DAY + HOUR - clock.now().getTime());
      assert.equal(await receipts(), 1, 'the first delivery went; the capture, a day younger, stays');
      const list = await (await staff.send('/staff/payments/webhooks')).text();
      assert.match(list, /Verified deliveries of the last 30 days; older ones are deleted\./);
      assert.equal(list.match(/data-testid="webhook-receipt"/g)?.length, 1);
      assert.match(await (await staff.send('/staff/payments')).text(), /All webhooks of the last 30 days/);
      await advanceAndPrune(DAY + HOUR);
      assert.equal(await receipts(), 0);
      const page = await staff.send(`/staff/orders/${orderId}`);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.equal(html.match(/data-testid="staff-order-webhook"/g), null);
      assert.match(html, /Verified deliveries of the last 30 days/);
      assert.match(html, /Delivered events are listed for 7 days after their delivery/);
    });
  });
}
