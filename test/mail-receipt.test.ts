// The shop's mail over real SMTP: the shop's own worker sends from the outbox to the mail catcher running
// as a separate process. Exactly one receipt per paid invoice however often the news arrives, with the
// order's lines, totals, delivery, a link to the receipt page and the receipt as a PDF; notices for a
// declined attempt, an expired invoice and a reversed payment, and staff see each mail's status
// (mail-smtp-down.test.ts: the SMTP server down, then back).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { PDFDocument } from 'pdf-lib';
import { fakeClock } from '../src/platform/clock.ts';
import { jobs } from '../src/platform/jobs/jobs.schema.ts';
import { MAIL_SEND_TASK } from '../src/shop/mail/outbox.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { shopMails } from '../src/shop/mail/mail.schema.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { expireInvoices } from '../src/shop/commands/expire-invoice.ts';
import { FakeGateway, signedDelivery } from '../src/shop/adapters/gateway.fake.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { invoices, orders } from '../src/shop/storage/tables.ts';
import { startCatcherProcess, pdfText, type CatcherProcess, type InboxMail } from './support/mail.ts';
import { ShopClient } from './support/shop-client.ts';

const SECRET = 'mail-test-session-secret-'.padEnd(48, 'x');

// PGlite only: the outbox's one engine-specific part (the unique key) is the same SQL on both, and each run is a minute of real SMTP.
for (const engine of testEngines().filter((e) => e === 'pglite')) {
  describe(`shop mail over SMTP (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    let catcher: CatcherProcess;
    const gateway = new FakeGateway();
    const webhookSecret = newWebhookSecret();
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
    let customer: ShopClient;
    let staff: ShopClient;
    let productId = '';
    let deliveryId = '';

    before(async () => {
      catcher = await startCatcherProcess();
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_GATEWAY_WEBHOOK_SECRETS: webhookSecret,
        SHOP_SMTP_URL: catcher.smtpUrl,
        SHOP_JOB_POLL_MS: '100',
        SHOP_SMTP_TIMEOUT_MS: '3000',
        SHOP_PUBLIC_URL: 'http://shop.test',
      });
      shop = await startShop(config, { database, gateway });
      productId = (await listProducts(database.db))[0]!.id;
      deliveryId = (await listDeliveryMethods(database.db))[0]!.id;
      customer = new ShopClient(app, '198.51.100.20');
      staff = new ShopClient(app, '198.51.100.21');
      assert.equal((await customer.login('customer@shop.test', 'demo-customer-password')).status, 303);
      assert.equal((await staff.login('staff@shop.test', 'demo-staff-password')).status, 303);
    });
    after(async () => {
      await shop?.stop();
      await catcher?.stop();
    });

    async function payNow() {
      await customer.emptyCart();
      await customer.send('/cart/add', { form: { productId, quantity: '2' } });
      await customer.send('/checkout/delivery', { form: { deliveryMethodId: deliveryId } });
      await customer.send('/checkout/address', {
        form: {
          fullName: 'Ada Lovelace',
          line1: '1 Analytical St',
          line2: '',
          postalCode: '10115',
          city: 'Berlin',
          country: 'de',
        },
      });
      const page = await (await customer.send('/checkout/pay')).text();
      const cartId = /name="cartId" value="([^"]+)"/.exec(page)![1]!;
      const res = await customer.send('/checkout/pay', { form: { cartId } });
      const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')![1]!;
      const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
      const [invoice] = await database.db.select().from(invoices).where(eq(invoices.id, invoiceId));
      const [order] = await database.db.select().from(orders).where(eq(orders.id, invoice!.orderId));
      return { sessionId, invoice: invoice!, order: order! };
    }
    const deliver = async (event: { id: string }) => {
      const d = signedDelivery(event, [webhookSecret]);
      return shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body });
    };
    const about = (orderId: string) => (mails: InboxMail[]) => mails.filter((m) => m.subject.includes(orderId));
    const mailRows = (orderId: string) => database.db.select().from(shopMails).where(eq(shopMails.orderId, orderId));

    it('sends exactly one receipt when the paid news arrives twice (and once more as the capture), with the order, totals, a receipt link and the PDF', async () => {
      const { sessionId, order } = await payNow();
      const authorized = gateway.move(sessionId, 'authorized');
      assert.equal((await deliver(authorized)).status, 200);
      assert.equal((await deliver(authorized)).status, 200, 'the redelivery is acknowledged too');
      assert.equal((await deliver(gateway.move(sessionId, 'captured'))).status, 200);
      const [receipt] = about(order.id)(await catcher.waitFor((m) => about(order.id)(m).length >= 1));
      // Give a second send every chance to show up before counting.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(about(order.id)(await catcher.inbox()).length, 1, 'one receipt, not one per delivery');
      assert.equal((await mailRows(order.id)).length, 1);

      assert.deepEqual(
        receipt!.to.map((t) => t.address),
        ['customer@shop.test'],
      );
      assert.match(receipt!.subject, new RegExp(`^Your receipt for order ${order.id} \\(€`));
      assert.match(receipt!.messageId ?? '', /^<mail_[0-9A-Z]+@mail\.countersign\.shop>$/);
      const total = (Number(order.totalMinor) / 100).toFixed(2);
      const subtotal = (Number(order.subtotalMinor) / 100).toFixed(2);
      assert.ok(receipt!.text.includes(`Total paid: €${total}`), receipt!.text);
      assert.ok(receipt!.text.includes(`Subtotal: €${subtotal}`), receipt!.text);
      assert.ok(receipt!.text.includes(`Delivery (${order.deliveryName})`), receipt!.text);
      assert.match(receipt!.text, /2 × .+ at €/);
      assert.ok(receipt!.html.includes(`href="http://shop.test/orders/${order.id}/receipt"`), receipt!.html);

      const [attachment] = receipt!.attachments;
      assert.equal(attachment?.contentType, 'application/pdf');
      assert.equal(attachment?.fileName, `receipt-${order.id}.pdf`);
      const pdf = await catcher.attachment(receipt!, attachment!.fileName);
      const doc = await PDFDocument.load(pdf);
      assert.equal(doc.getTitle(), `Receipt ${order.id}`);
      const lines = pdfText(pdf);
      assert.ok(lines.includes(`Receipt for order ${order.id}`), lines.join('\n'));
      assert.ok(lines.includes(`Total paid: €${total}`), lines.join('\n'));
      assert.ok(lines.includes('Ada Lovelace'), lines.join('\n'));

      // The same PDF is a download on the receipt page, for its owner only.
      const download = await customer.send(`/orders/${order.id}/receipt.pdf`);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get('content-type'), 'application/pdf');
      assert.ok(pdfText(new Uint8Array(await download.arrayBuffer())).includes(`Total paid: €${total}`));
      const other = new ShopClient(app, '198.51.100.22');
      await other.login('other@shop.test', 'demo-other-password');
      assert.equal((await other.send(`/orders/${order.id}/receipt.pdf`)).status, 404);
      assert.match(await (await customer.send(`/orders/${order.id}/receipt`)).text(), /receipt\.pdf/);

      const staffPage = await (await staff.send(`/staff/orders/${order.id}`)).text();
      assert.match(staffPage, /data-testid="staff-order-mail" data-kind="receipt" data-status="sent"/);
    });

    it('sends a notice with a link to try again for a declined attempt, and one when the invoice expires unpaid', async () => {
      const { sessionId, order, invoice } = await payNow();
      assert.equal((await deliver(gateway.move(sessionId, 'declined', 'card_declined'))).status, 200);
      const [declined] = about(order.id)(await catcher.waitFor((m) => about(order.id)(m).length >= 1));
      assert.match(declined!.subject, /did not go through/);
      assert.ok(declined!.text.includes(`Try again: http://shop.test/orders/${order.id}`), declined!.text);
      assert.match(declined!.text, /declined/);

      // The expiry job runs past the invoice's expiry; the notice it queues (due at that clock's now) is made due now.
      await expireInvoices({ database, clock: fakeClock(invoice.expiresAt.getTime() + 1000) });
      await database.db
        .update(jobs)
        .set({ runAt: new Date() })
        .where(and(eq(jobs.task, MAIL_SEND_TASK), eq(jobs.status, 'pending')));
      const mails = about(order.id)(await catcher.waitFor((m) => about(order.id)(m).length >= 2));
      const expired = mails.find((m) => m.subject.includes('waiting for payment'));
      assert.ok(expired, JSON.stringify(mails.map((m) => m.subject)));
      assert.ok(expired.text.includes(`expired unpaid`), expired.text);
      assert.equal(mails.filter((m) => m.attachments.length > 0).length, 0, 'notices carry no receipt');
    });

    it('sends a notice when a paid payment is reversed (voided after it was accepted)', async () => {
      const { sessionId, order } = await payNow();
      assert.equal((await deliver(gateway.move(sessionId, 'authorized'))).status, 200);
      assert.equal((await deliver(gateway.move(sessionId, 'voided'))).status, 200);
      const mails = about(order.id)(await catcher.waitFor((m) => about(order.id)(m).length >= 2));
      assert.deepEqual(mails.map((m) => m.subject.split(' ')[1]).sort(), ['payment', 'receipt'].sort());
      assert.ok(mails.some((m) => /was reversed/.test(m.subject)));
    });
  });
}
