// The staff order page and payment lists over HTTP on both engines, after a real money story (signed
// webhooks through the intake, a refund through the staff form): a partial-refund webhook is listed
// as what it was, not as "captured"; a partly and a fully refunded order say what was captured and
// refunded (never "Nothing was captured"); "By" and audit actors are people, not user ids, and an
// unknown account says so.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway } from '../src/shop/adapters/gateway.fake.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { refunds } from '../src/shop/storage/tables.ts';
import { DEMO } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';
import { refundedOrder, type RefundedOrder } from './support/staff-console.ts';

const SECRET = 'staff-console-test-secret-'.padEnd(48, 'x');
const WEBHOOK_SECRET = newWebhookSecret();

/** The text of an element's contents with tags removed and whitespace collapsed. */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();

for (const engine of testEngines()) {
  describe(`staff console after refunds (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 2, 10, 9));
    const gateway = new FakeGateway();
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
    let staff: ShopClient;
    let customer: ShopClient;
    let story: RefundedOrder;
    let partialPage = '';

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_TRUST_PROXY: 'true',
        SHOP_GATEWAY_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      });
      shop = await startShop(config, { database, clock, gateway, jobs: false });
      staff = new ShopClient(app, '198.51.100.41');
      customer = new ShopClient(app, '198.51.100.42');
      assert.equal((await staff.login(...DEMO.staff)).status, 303);
      assert.equal((await customer.login(...DEMO.customer)).status, 303);
      story = await refundedOrder({
        app,
        database,
        clock,
        gateway,
        secret: WEBHOOK_SECRET,
        customer,
        staff,
        onPartial: async (orderId) => {
          partialPage = await (await staff.send(`/staff/orders/${orderId}`)).text();
        },
      });
    });
    after(async () => {
      await shop?.stop();
    });

    it('lists a partial-refund webhook as partially_refunded, not captured, on every list that shows it', async () => {
      for (const path of ['/staff/payments', `/staff/payments/webhooks?q=${story.partialEventId}`]) {
        const html = await (await staff.send(path)).text();
        const row = new RegExp(`<td>${story.partialEventId}</td><td data-testid="webhook-type">([^<]*)</td>`).exec(
          html,
        );
        assert.equal(row?.[1], 'partially_refunded', path);
      }
      const typed = await (await staff.send('/staff/payments/webhooks?q=partially_refunded')).text();
      assert.match(typed, new RegExp(story.partialEventId));
      // By the invoice's id: its deliveries (captured, then the partial refund), no other invoice's.
      const byInvoice = await (await staff.send(`/staff/payments/webhooks?q=${story.invoiceId}`)).text();
      assert.deepEqual([...byInvoice.matchAll(/data-testid="webhook-type">([^<]*)</g)].map((m) => m[1]).sort(), [
        'captured',
        'partially_refunded',
      ]);
      const other = await (await staff.send('/staff/payments/webhooks?q=inv_00000000000000000000000000')).text();
      assert.doesNotMatch(other, /data-testid="webhook-type"/);
      const order = await (await staff.send(`/staff/orders/${story.orderId}`)).text();
      const types = [...order.matchAll(/data-testid="webhook-type">([^<]*)</g)].map((m) => m[1]);
      assert.deepEqual(
        types,
        ['captured', 'partially_refunded'],
        'the order page lists both deliveries by what they were',
      );
    });

    it('says what a partly refunded order captured and refunded', async () => {
      const summary = /data-testid="capture-summary">([^]*?)<\/p>/.exec(partialPage)?.[1] ?? '';
      const total = `€${story.totalMinor / 100n}.${String(story.totalMinor % 100n).padStart(2, '0')}`;
      assert.match(summary, new RegExp(`^Captured ${total.replace('.', '\\.')} on 2026-03-10 09:0\\d UTC\\. `));
      assert.match(summary, /Refunded €1\.00, last on 2026-03-10 09:0\d UTC\./);
      assert.match(summary, /still captured\./);
      assert.doesNotMatch(partialPage, /Nothing was captured/);
    });

    it('says a fully refunded order captured and refunded it all, and when — never "Nothing was captured"', async () => {
      const html = await (await staff.send(`/staff/orders/${story.orderId}`)).text();
      assert.match(html, /data-testid="staff-order-status">refunded/);
      assert.doesNotMatch(html, /Nothing was captured/);
      const summary = text(/data-testid="capture-summary">([^]*?)<\/p>/.exec(html)?.[1] ?? '');
      assert.match(
        summary,
        /^Captured €\d+\.\d\d on 2026-03-10 09:0\d UTC\. Refunded €\d+\.\d\d in full, last on 2026-03-10 09:0\d UTC\.$/,
      );
      const [captured, refunded] = [...summary.matchAll(/€(\d+\.\d\d)/g)].map((m) => m[1]);
      assert.equal(captured, refunded, 'refunded what was captured');
      assert.match(html, /Nothing is left to refund\./);
    });

    it('shows who requested a refund and who acted in the audit trail by name and e-mail, not by user id', async () => {
      const html = await (await staff.send(`/staff/orders/${story.orderId}`)).text();
      const by = [...html.matchAll(/data-testid="refund-by">([^]*?)<\/td>/g)].map((m) => text(m[1]!));
      assert.deepEqual(by.sort(), ['Shop Staff <staff@shop.test>', 'the gateway']);
      const audit = /data-testid="audit-table"[^]*?<\/table>/.exec(html)?.[0] ?? '';
      assert.match(audit, /Shop Staff &lt;staff@shop\.test&gt;/);
      assert.doesNotMatch(audit, /<td>usr_/, 'no actor shown as a bare user id');
      const list = await (await staff.send(`/staff/refunds?q=${story.orderId}`)).text();
      assert.match(list, /Shop Staff &lt;staff@shop\.test&gt;/);
      assert.doesNotMatch(list, /data-testid="refund-by">usr_/);
    });

    it('names an account that no longer exists as unknown, with its id', async () => {
      await database.db.insert(refunds).values({
        id: 'ref_ghost1',
        invoiceId: story.invoiceId,
        orderId: story.orderId,
        sessionId: 'ps_ghost',
        amountMinor: 1n,
        currency: 'EUR',
        reason: 'test of an unknown requester',
        status: 'rejected',
        requestedBy: 'usr_01GHOST000000000000000000',
        approvedBy: 'usr_01GHOST000000000000000001',
        createdAt: clock.now(),
        updatedAt: clock.now(),
      });
      const html = await (await staff.send(`/staff/refunds?q=ref_ghost1`)).text();
      const by = [...html.matchAll(/data-testid="refund-by">([^]*?)<\/td>/g)].map((m) => text(m[1]!));
      assert.deepEqual(by, [
        'deleted or unknown account (usr_01GHOST000000000000000000) · rejected by deleted or unknown account (usr_01GHOST000000000000000001)',
      ]);
    });
  });
}
