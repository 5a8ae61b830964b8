// An SMTP server that hangs or is down delays the mail and never the payment: the webhook is acknowledged
// and the order paid before any SMTP attempt ends, staff see the receipt queued with its SMTP error, and
// the send job's retries deliver it once the server (the mail catcher, a real process) is back on the
// same port.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
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
import { waitFor } from './support/proof-crash-approval.ts';

// PGlite only: the outbox's one engine-specific part (the unique key) is the same SQL on both, and each run is a minute of real SMTP.
for (const engine of testEngines().filter((e) => e === 'pglite')) {
  describe(`shop mail with the SMTP server down (${engine})`, () => {
    const m = useMailShop(engine);
    const payNow = () => payNowIn(m);
    const deliver = (event: { id: string }) => deliverTo(m, event);
    const mailRows = (orderId: string) => mailRowsOf(m, orderId);

    it('with the SMTP server hung, then down, the payment is still paid; staff see the mail queued with its SMTP error; it is sent once the server is back', async () => {
      await m.catcher.stop();
      // First a server that accepts the connection and never greets: a send that waits on it lasts
      // the SMTP timeout (3 s here), so a webhook that waited for the mail would answer after it.
      const held = new Set<Socket>();
      const silent = createServer((socket) => held.add(socket));
      await new Promise<void>((resolve) => silent.listen(m.catcher.smtpPort, '127.0.0.1', resolve));
      let silentOpen = true;
      const closeSilent = async () => {
        if (!silentOpen) return;
        silentOpen = false;
        for (const socket of held) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      };
      try {
        const { sessionId, order } = await payNow();
        assert.equal((await deliver(m.gateway.move(sessionId, 'authorized'))).status, 200);
        const [atAnswer] = await mailRows(order.id);
        assert.equal(atAnswer?.status, 'queued');
        assert.equal(atAnswer?.lastError, null, 'the webhook was answered before any SMTP attempt ended');
        const [paid] = await m.database.db.select().from(orders).where(eq(orders.id, order.id));
        assert.equal(paid!.status, 'paid');

        /** Waits up to 30 s for an attempt that failed with `pattern`; the mail stays queued. */
        const failed = async (pattern: RegExp) => {
          const [row] = await waitFor(
            () => mailRows(order.id),
            ([r]) => r?.lastError != null && pattern.test(r.lastError),
            30_000,
          );
          assert.match(row?.lastError ?? '', pattern, 'an attempt failed so');
          assert.equal(row?.status, 'queued');
        };
        await failed(/greeting|timeout/i);
        assert.ok(held.size >= 1, 'the send job connected to the silent server');

        // Then nothing listens: the next attempt is refused at once.
        await closeSilent();
        await failed(/ECONNREFUSED|connect/i);
        const page = await (await m.staff.send(`/staff/orders/${order.id}`)).text();
        assert.match(page, /data-kind="receipt" data-status="queued"/);
        assert.match(page, /data-testid="staff-order-mail-error">[^<]*(ECONNREFUSED|connect)/i);
        await m.catcher.restart();
        const mails = await m.catcher.waitFor((m) => about(order.id)(m).length >= 1, 90_000);
        assert.equal(about(order.id)(mails).length, 1);
        const [row] = await mailRows(order.id);
        assert.equal(row!.status, 'sent');
        assert.ok(row!.attempts >= 3, `sent after two failed attempts (attempt ${row!.attempts})`);
      } finally {
        await closeSilent();
        await m.catcher.restart();
      }
    });
  });
}
