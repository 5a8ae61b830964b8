// Order-status events delivered to integration endpoints (warehouse, CRM) through the job system, on
// both engines: signed with Standard Webhooks (the receiver verifies the raw body), one delivery
// state per endpoint (a failing CRM does not make the warehouse receive the event twice), retried
// with backoff until it answers 2xx, and the configuration's failures named.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { newWebhookSecret, verifyWebhook } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import { ConfigError } from '../src/platform/config.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { createWorker } from '../src/platform/jobs/jobs.ts';
import { jobs } from '../src/platform/jobs/jobs.schema.ts';
import { ENDPOINT_DELIVERY_TASK, integrationTasks } from '../src/shop/jobs/integration-delivery.ts';
import { listDeliveries } from '../src/shop/storage/integration-deliveries.ts';
import { loadIntegrationConfig } from '../src/shop/integrations/config.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../src/shop/storage/cart.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { ensureDemoData } from '../src/shop/storage/demo-data.ts';
import { ORDER_STATUS_TASK } from '../src/shop/storage/order-status-outbox.ts';
import { placeOrder } from '../src/shop/commands/place-order.ts';
import { orderStatusEvents, users } from '../src/shop/storage/tables.ts';

interface Received {
  headers: Record<string, string>;
  body: string;
}

/** A receiver that records every request and answers with the next status of its script (then the last). */
async function receiver(script: number[]): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = script[Math.min(got.length - 1, script.length - 1)]!;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, got, server };
}

describe('integration configuration', () => {
  it('parses name=url pairs and requires a secret when endpoints are set', () => {
    const secret = newWebhookSecret();
    const c = loadIntegrationConfig({
      SHOP_INTEGRATION_ENDPOINTS: 'warehouse=http://127.0.0.1:9/w, crm=https://crm.example/hook',
      SHOP_INTEGRATION_SECRET: secret,
    });
    assert.deepEqual(
      c.endpoints.map((e) => e.name),
      ['warehouse', 'crm'],
    );
    assert.equal(c.endpoints[1]!.url, 'https://crm.example/hook');
    assert.deepEqual(loadIntegrationConfig({}).endpoints, []);
    assert.throws(
      () => loadIntegrationConfig({ SHOP_INTEGRATION_ENDPOINTS: 'warehouse=http://127.0.0.1:9/w' }),
      (e) => e instanceof ConfigError && /SHOP_INTEGRATION_SECRET/.test(e.message),
    );
    assert.throws(
      () => loadIntegrationConfig({ SHOP_INTEGRATION_ENDPOINTS: 'warehouse', SHOP_INTEGRATION_SECRET: secret }),
      (e) => e instanceof ConfigError && /SHOP_INTEGRATION_ENDPOINTS/.test(e.message),
    );
    assert.throws(
      () => loadIntegrationConfig({ SHOP_INTEGRATION_ENDPOINTS: 'a=ftp://x', SHOP_INTEGRATION_SECRET: secret }),
      ConfigError,
    );
    assert.throws(
      () =>
        loadIntegrationConfig({ SHOP_INTEGRATION_ENDPOINTS: 'a=http://x,a=http://y', SHOP_INTEGRATION_SECRET: secret }),
      ConfigError,
    );
    assert.throws(
      () => loadIntegrationConfig({ SHOP_INTEGRATION_SECRET: 'not-a-secret' }),
      (e) => e instanceof ConfigError && !e.message.includes('not-a-secret'),
    );
  });
});

for (const engine of testEngines()) {
  describe(`order-status deliveries on ${engine}`, () => {
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    const secret = newWebhookSecret();
    let warehouse: Awaited<ReturnType<typeof receiver>>;
    let crm: Awaited<ReturnType<typeof receiver>>;

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      await ensureDemoData(database, clock.now());
      warehouse = await receiver([200]);
      crm = await receiver([503, 500, 204]);
    });
    after(async () => {
      await database.close();
      warehouse.server.close();
      crm.server.close();
    });

    it('signs each event for every endpoint and retries only the failing one until it answers 2xx', async () => {
      const [customer] = await database.db.select().from(users).where(eq(users.email, 'customer@shop.test'));
      const [product] = await listProducts(database.db);
      await addToCart(database.db, customer!.id, product!.id, 2, clock.now());
      await chooseCartDelivery(database.db, customer!.id, (await listDeliveryMethods(database.db))[0]!.id, clock.now());
      await saveCartAddress(
        database.db,
        customer!.id,
        { fullName: 'Ada', line1: '1 St', line2: '', postalCode: '10115', city: 'Berlin', country: 'DE' },
        clock.now(),
      );
      const order = await placeOrder(database.db, customer!.id, clock.now());
      const [event] = await database.db.select().from(orderStatusEvents).where(eq(orderStatusEvents.orderId, order.id));

      const config = loadIntegrationConfig({
        SHOP_INTEGRATION_ENDPOINTS: `warehouse=${warehouse.url},crm=${crm.url}`,
        SHOP_INTEGRATION_SECRET: secret,
      });
      const worker = createWorker({
        database,
        clock,
        tasks: integrationTasks({ database, config, clock }),
        random: () => 0.5,
        log: { info() {}, warn() {}, error() {} },
      });
      await worker.runDue();
      assert.equal(warehouse.got.length, 1);
      assert.equal(crm.got.length, 1);

      for (let i = 0; i < 5 && crm.got.length < 3; i++) {
        clock.advance(3600_000);
        await worker.runDue();
      }
      assert.equal(crm.got.length, 3, 'the CRM got the event again until it answered 2xx');
      assert.equal(warehouse.got.length, 1, 'the warehouse, which answered 200, got it exactly once');

      for (const delivery of [...warehouse.got, ...crm.got]) {
        assert.equal(delivery.headers['webhook-id'], event!.id, 'the same webhook-id on every retry');
        verifyWebhook({
          headers: delivery.headers,
          body: delivery.body,
          secrets: [secret],
          now: new Date(Number(delivery.headers['webhook-timestamp']) * 1000),
        });
        const body = JSON.parse(delivery.body) as {
          type: string;
          orderId: string;
          to: string;
          total: { minor: string };
        };
        assert.equal(body.type, 'order.status_changed');
        assert.equal(body.orderId, order.id);
        assert.equal(body.to, 'awaiting_payment');
        assert.equal(body.total.minor, order.totalMinor.toString());
      }
      assert.throws(() =>
        verifyWebhook({
          headers: warehouse.got[0]!.headers,
          body: warehouse.got[0]!.body.replace(order.id, 'ord_forged'),
          secrets: [secret],
          now: clock.now(),
        }),
      );

      const states = await listDeliveries(database.db, { orderId: order.id });
      assert.deepEqual(states.map((s) => `${s.endpoint}:${s.status}:${s.attempts}`).sort(), [
        'crm:succeeded:3',
        'warehouse:succeeded:1',
      ]);
      assert.ok(states.every((s) => s.eventId === event!.id));

      // The fan-out running again (at-least-once) enqueues nothing new and sends nothing twice.
      await integrationTasks({ database, config, clock })[ORDER_STATUS_TASK]!(
        { eventId: event!.id },
        { jobId: 'job_x', attempt: 2, task: ORDER_STATUS_TASK, signal: new AbortController().signal },
      );
      await worker.runDue();
      assert.equal(warehouse.got.length, 1);
      assert.equal((await database.db.select().from(jobs).where(eq(jobs.task, ENDPOINT_DELIVERY_TASK))).length, 2);
    });

    it('fails the attempt for an unreachable endpoint (the job system retries it) while the other endpoint still receives, and skips a removed endpoint', async () => {
      const config = loadIntegrationConfig({
        SHOP_INTEGRATION_ENDPOINTS: `warehouse=${warehouse.url},dead=http://127.0.0.1:1/none`,
        SHOP_INTEGRATION_SECRET: secret,
      });
      const [event] = await database.db.select().from(orderStatusEvents).limit(1);
      const tasks = integrationTasks({ database, config, clock });
      const ctx = { jobId: 'job_y', attempt: 1, task: ENDPOINT_DELIVERY_TASK, signal: new AbortController().signal };
      await assert.rejects(tasks[ENDPOINT_DELIVERY_TASK]!({ eventId: event!.id, endpoint: 'dead' }, ctx), /dead/);
      const before = warehouse.got.length;
      await tasks[ENDPOINT_DELIVERY_TASK]!({ eventId: event!.id, endpoint: 'warehouse' }, ctx);
      assert.equal(warehouse.got.length, before + 1);
      // An endpoint removed from the configuration since the job was queued: nothing to send, nothing to retry.
      await tasks[ENDPOINT_DELIVERY_TASK]!({ eventId: event!.id, endpoint: 'gone' }, ctx);
    });
  });
}
