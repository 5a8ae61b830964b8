// The shop's mail over real SMTP: the shop's own worker sends from the outbox to the mail catcher running
// as a separate process. Exactly one receipt per paid invoice however often the news arrives, with the
// order's lines, totals, delivery, a link to the receipt page and the receipt as a PDF; notices for a
// declined attempt, an expired invoice and a reversed payment, and staff see each mail's status
// (mail-smtp-down.test.ts: the SMTP server down, then back).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { PDFDocument } from 'pdf-lib';
import { fakeClock } from '../src/platform/clock.ts';
import { jobs } from '../src/platform/jobs/jobs.schema.ts';
import { MAIL_SEND_TASK } from '../src/shop/mail/outbox.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { expireInvoices } from '../src/shop/commands/expire-invoice.ts';
import { type InboxMail, pdfText } from './support/mail.ts';
import {
  about,
  deliver as deliverTo,
  mailRows as mailRowsOf,
  payNow as payNowIn,
  useMailShop,
} from './support/mail-shop.ts';

// PGlite only: the outbox's one engine-specific part (the unique key) is the same SQL on both, and each run is a minute of real SMTP.
for (const engine of testEngines().filter((e) => e === 'pglite')) {
  describe(`shop mail over SMTP (${engine})`, () => {
    const m = useMailShop(engine);
    const payNow = () => payNowIn(m);
    const deliver = (event: { id: string }) => deliverTo(m, event);
    const mailRows = (orderId: string) => mailRowsOf(m, orderId);

    it('sends exactly one receipt when the paid news arrives twice (and once more as the capture), with the order, totals, a receipt link and the PDF', async () => {
      const { sessionId, order } = await payNow();
      const authorized = m.gateway.move(sessionId, 'authorized');
      assert.equal((await deliver(authorized)).status, 200);
      assert.equal((await deliver(authorized)).status, 200, 'the redelivery is acknowledged too');
      assert.equal((await deliver(m.gateway.move(sessionId, 'captured'))).status, 200);
      const [receipt] = about(order.id)(await m.catcher.waitFor((m) => about(order.id)(m).length >= 1));
      // Give a second send every chance to show up before counting.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(about(order.id)(await m.catcher.inbox()).length, 1, 'one receipt, not one per delivery');
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
      // The card comes from the news the intake kept on the attempt: the gateway is not asked for it.
      assert.ok(receipt!.text.includes('Paid with visa ending in 4242.'), receipt!.text);
      assert.ok(!m.gateway.calls.includes(`get:${sessionId}`), m.gateway.calls.join(' '));
      assert.ok(receipt!.html.includes(`href="http://shop.test/orders/${order.id}/receipt"`), receipt!.html);

      const [attachment] = receipt!.attachments;
      assert.equal(attachment?.contentType, 'application/pdf');
      assert.equal(attachment?.fileName, `receipt-${order.id}.pdf`);
      const pdf = await m.catcher.attachment(receipt!, attachment!.fileName);
      const doc = await PDFDocument.load(pdf);
      assert.equal(doc.getTitle(), `Receipt ${order.id}`);
      const lines = pdfText(pdf);
      assert.ok(lines.includes(`Receipt for order ${order.id}`), lines.join('\n'));
      assert.ok(lines.includes(`Total paid: €${total}`), lines.join('\n'));
      assert.ok(lines.includes('Ada Lovelace'), lines.join('\n'));

      // The same PDF is a download on the receipt page, for its owner only.
      const download = await m.customer.send(`/orders/${order.id}/receipt.pdf`);
      assert.equal(download.status, 200);
      assert.equal(download.headers.get('content-type'), 'application/pdf');
      assert.ok(pdfText(new Uint8Array(await download.arrayBuffer())).includes(`Total paid: €${total}`));
      const other = m.client('198.51.100.22');
      await other.login('other@shop.test', 'demo-other-password');
      assert.equal((await other.send(`/orders/${order.id}/receipt.pdf`)).status, 404);
      assert.match(await (await m.customer.send(`/orders/${order.id}/receipt`)).text(), /receipt\.pdf/);

      const staffPage = await (await m.staff.send(`/staff/orders/${order.id}`)).text();
      assert.match(staffPage, /data-testid="staff-order-mail" data-kind="receipt" data-status="sent"/);
    });

    it('names the card on the receipt when the news did not carry it, by asking the gateway once', async () => {
      const { sessionId, order } = await payNow();
      m.gateway.cardInNews = false;
      try {
        assert.equal((await deliver(m.gateway.move(sessionId, 'authorized'))).status, 200);
      } finally {
        m.gateway.cardInNews = true;
      }
      const [receipt] = about(order.id)(await m.catcher.waitFor((m) => about(order.id)(m).length >= 1));
      assert.ok(receipt!.text.includes('Paid with visa ending in 4242.'), receipt!.text);
      assert.equal(m.gateway.calls.filter((c) => c === `get:${sessionId}`).length, 1);
    });

    it('sends a notice with a link to try again for a declined attempt, and one when the invoice expires unpaid', async () => {
      const { sessionId, order, invoice } = await payNow();
      assert.equal((await deliver(m.gateway.move(sessionId, 'declined', 'card_declined'))).status, 200);
      const [declined] = about(order.id)(await m.catcher.waitFor((m) => about(order.id)(m).length >= 1));
      assert.match(declined!.subject, /did not go through/);
      assert.ok(declined!.text.includes(`Try again: http://shop.test/orders/${order.id}`), declined!.text);
      assert.match(declined!.text, /declined/);

      // The expiry job runs past the invoice's expiry; the notice it queues (due at that clock's now) is made due now.
      await expireInvoices({ database: m.database, clock: fakeClock(invoice.expiresAt.getTime() + 1000) });
      await m.database.db
        .update(jobs)
        .set({ runAt: new Date() })
        .where(and(eq(jobs.task, MAIL_SEND_TASK), eq(jobs.status, 'pending')));
      const mails = about(order.id)(await m.catcher.waitFor((m) => about(order.id)(m).length >= 2));
      const expired = mails.find((m) => m.subject.includes('waiting for payment'));
      assert.ok(expired, JSON.stringify(mails.map((m) => m.subject)));
      assert.ok(expired.text.includes(`expired unpaid`), expired.text);
      assert.equal(mails.filter((m) => m.attachments.length > 0).length, 0, 'notices carry no receipt');
    });

    it('sends a notice for each refund that succeeds, to the customer, with its amount and the customer text (never staff`s note)', async () => {
      const { sessionId, order, invoice } = await payNow();
      assert.equal((await deliver(m.gateway.move(sessionId, 'authorized'))).status, 200);
      assert.equal((await deliver(m.gateway.move(sessionId, 'captured'))).status, 200);
      // The gateway accepts refunds at once; the shop's own refund job calls it.
      m.gateway.createRefund = async (request) => ({
        refundId: `ref_gw${request.refundId.slice(4)}`,
        status: 'succeeded',
      });
      const refundNotices = (mails: InboxMail[]) =>
        about(order.id)(mails).filter((x) => x.subject.startsWith('Refund'));
      for (const [i, amount] of ['1.50', '2.00'].entries()) {
        const form = {
          invoiceId: invoice.id,
          amount,
          reason: `refund number ${i + 1}`,
          customerReason: i === 0 ? 'delivery' : 'returned',
        };
        assert.equal((await m.staff.send(`/staff/orders/${order.id}/refunds`, { form })).status, 303);
        await m.catcher.waitFor((mails) => refundNotices(mails).length >= i + 1);
      }
      const notices = refundNotices(await m.catcher.inbox());
      assert.deepEqual(notices.map((x) => x.subject).sort(), [
        `Refund of €1.50 for order ${order.id}`,
        `Refund of €2.00 for order ${order.id}`,
      ]);
      assert.ok(notices.every((x) => x.to.map((t) => t.address).join() === 'customer@shop.test'));
      const texts = notices.map((x) => x.text).join('\n');
      assert.ok(
        notices.some(
          (x) =>
            x.text.includes('€2.00 has been refunded to your card for order') &&
            x.text.includes('for the items you returned.'),
        ),
        texts,
      );
      assert.ok(
        notices.some((x) => x.text.includes('for the delivery charge.')),
        texts,
      );
      assert.doesNotMatch(texts, /refund number/, 'staff`s internal reason stays internal');
    });

    it('sends a notice when a paid payment is reversed (voided after it was accepted)', async () => {
      const { sessionId, order } = await payNow();
      assert.equal((await deliver(m.gateway.move(sessionId, 'authorized'))).status, 200);
      assert.equal((await deliver(m.gateway.move(sessionId, 'voided'))).status, 200);
      const mails = about(order.id)(await m.catcher.waitFor((m) => about(order.id)(m).length >= 2));
      assert.deepEqual(mails.map((m) => m.subject.split(' ')[1]).sort(), ['payment', 'receipt'].sort());
      assert.ok(mails.some((m) => /was reversed/.test(m.subject)));
    });
  });
}
