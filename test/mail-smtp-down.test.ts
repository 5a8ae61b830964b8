// An SMTP server that is down delays the mail and never the payment: the webhook is acknowledged and the
// order paid at once, staff see the receipt queued with its SMTP error, and the send job's retries deliver
// it once the server (the mail catcher, a real process) is back on the same port.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { testEngines } from '../src/platform/db/testing.ts';
import { orders } from '../src/shop/storage/tables.ts';
import {
  about,
  deliver as deliverTo,
  mailRows as mailRowsOf,
  payNow as payNowIn,
  useMailShop,
} from './support/mail-shop.ts';

// PGlite only: the outbox's one engine-specific part (the unique key) is the same SQL on both, and each run is a minute of real SMTP.
for (const engine of testEngines().filter((e) => e === 'pglite')) {
  describe(`shop mail with the SMTP server down (${engine})`, () => {
    const m = useMailShop(engine);
    const payNow = () => payNowIn(m);
    const deliver = (event: { id: string }) => deliverTo(m, event);
    const mailRows = (orderId: string) => mailRowsOf(m, orderId);

    it('with the SMTP server down the payment is still paid; staff see the mail queued with its SMTP error; it is sent once the server is back', async () => {
      await m.catcher.stop();
      try {
        const { sessionId, order } = await payNow();
        const started = Date.now();
        assert.equal((await deliver(m.gateway.move(sessionId, 'authorized'))).status, 200);
        assert.ok(Date.now() - started < 10_000, 'the webhook did not wait for SMTP');
        const [paid] = await m.database.db.select().from(orders).where(eq(orders.id, order.id));
        assert.equal(paid!.status, 'paid');
        for (let i = 0; ; i++) {
          const [row] = await mailRows(order.id);
          if (row?.lastError) {
            assert.equal(row.status, 'queued');
            assert.match(row.lastError, /ECONNREFUSED|connect/i);
            break;
          }
          assert.ok(i < 100, 'the failed attempt was recorded');
          await new Promise((r) => setTimeout(r, 100));
        }
        const page = await (await m.staff.send(`/staff/orders/${order.id}`)).text();
        assert.match(page, /data-kind="receipt" data-status="queued"/);
        assert.match(page, /data-testid="staff-order-mail-error">[^<]*(ECONNREFUSED|connect)/i);
        await m.catcher.restart();
        const mails = await m.catcher.waitFor((m) => about(order.id)(m).length >= 1, 90_000);
        assert.equal(about(order.id)(mails).length, 1);
        const [row] = await mailRows(order.id);
        assert.equal(row!.status, 'sent');
        assert.ok(row!.attempts >= 2, `sent on a retry (attempt ${row!.attempts})`);
      } finally {
        await m.catcher.restart();
      }
    });
  });
}
