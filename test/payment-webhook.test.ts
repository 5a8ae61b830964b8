// The shop's payment integration in process on both engines, with an in-memory gateway behind the
// port: "Pay now" creates an attempt and a session; the webhook intake verifies the raw bytes,
// deduplicates in the effect's transaction, refuses (409) what must not be captured and keeps every
// delivery; the return URL, reconciliation and the event feed share the webhook's code path; expiry
// cancels the session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { money } from '../src/core/money.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { realtimeMessages } from '../src/platform/realtime/realtime.schema.ts';
import { jobs } from '../src/platform/jobs/jobs.schema.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { gatewayEvents, webhookReceipts, webhookRefusals } from '../src/shop/storage/tables.ts';
import { CANCEL_SESSION_TASK, expireInvoices } from '../src/shop/commands/expire-invoice.ts';
import {
  cancelGatewaySession,
  FEED_CURSOR_KEY,
  readEventFeed,
  reconcilePendingAttempts,
} from '../src/shop/jobs/reconcile.ts';
import { readPaymentState, savePaymentState } from '../src/shop/storage/payments.ts';
import { FakeGateway, signedDelivery, wireEvent } from '../src/shop/adapters/gateway.fake.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { auditLog, invoices, orders, orderStatusEvents, paymentAttempts } from '../src/shop/storage/tables.ts';
import { ShopClient } from './support/shop-client.ts';
import { DEMO, checkoutForm } from './support/factories.ts';

const SECRET = 'payment-test-secret-'.padEnd(48, 'x');

for (const engine of testEngines()) {
  describe(`shop payments and webhook intake (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.now());
    const gateway = new FakeGateway();
    const current = newWebhookSecret();
    const previous = newWebhookSecret();
    const retired = newWebhookSecret();
    let productIds: string[] = [];
    let deliveryId = '';
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
    let client: ShopClient;

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_TRUST_PROXY: 'true',
        SHOP_GATEWAY_WEBHOOK_SECRETS: `${current},${previous}`,
      });
      shop = await startShop(config, { database, clock, gateway, jobs: false });
      productIds = (await listProducts(database.db)).map((p) => p.id);
      deliveryId = (await listDeliveryMethods(database.db))[0]!.id;
      client = new ShopClient(app, '198.51.100.9');
      assert.equal((await client.login(...DEMO.customer)).status, 303);
    });
    after(async () => {
      await shop?.stop();
    });

    /** Buys one product and presses "Pay now": returns the invoice and the gateway session. */
    async function payNow() {
      await client.emptyCart();
      const cartId = await checkoutForm(client, {
        lines: [{ productId: productIds[0]!, quantity: 1 }],
        deliveryMethodId: deliveryId,
      });
      const res = await client.send('/checkout/pay', { form: { cartId } });
      assert.equal(res.status, 303);
      const location = res.headers.get('location') ?? '';
      const sessionId = /^http:\/\/gateway\.test\/pay\/(ps_\w+)$/.exec(location)?.[1];
      assert.ok(sessionId, `redirected to the hosted page, got ${location}`);
      const session = gateway.sessions.get(sessionId)!;
      const [invoice] = await database.db.select().from(invoices).where(eq(invoices.id, session.request.invoiceId));
      return { sessionId, invoice: invoice!, amount: money(invoice!.amountMinor, 'EUR') };
    }

    async function deliver(
      event: { id: string },
      options: { secrets?: string[]; timestamp?: Date; body?: string } = {},
    ) {
      const d = signedDelivery(event, options.secrets ?? [current], options.timestamp ?? clock.now(), options.body);
      return shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body });
    }
    const invoiceRow = async (id: string) => (await database.db.select().from(invoices).where(eq(invoices.id, id)))[0]!;
    const attemptOf = async (sessionId: string) =>
      (await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, sessionId)))[0]!;
    const audits = async (action: string, subject: string) =>
      (
        await database.db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.action, action), eq(auditLog.subject, subject)))
      ).length;
    const receiptsFor = async (eventId: string) =>
      database.db.select().from(webhookReceipts).where(eq(webhookReceipts.eventId, eventId));
    const refusalCounts = async () =>
      Object.fromEntries(
        (
          await database.db
            .select({ reason: webhookRefusals.reason, n: sql<number>`sum(${webhookRefusals.count})::int` })
            .from(webhookRefusals)
            .groupBy(webhookRefusals.reason)
        ).map((r) => [r.reason, Number(r.n)]),
      );

    it('"Pay now" creates an attempt and a session for the invoice (amount, reference, expiry, return URL), and a second click reuses it', async () => {
      const { sessionId, invoice } = await payNow();
      const s = gateway.sessions.get(sessionId)!;
      assert.equal(s.request.invoiceId, invoice.id);
      assert.equal(s.request.amount.minor, invoice.amountMinor);
      assert.equal(s.request.expiresAt.getTime(), invoice.expiresAt.getTime());
      assert.match(s.request.returnUrl, new RegExp(`/invoices/${invoice.id}\\?from=gateway$`));
      const attempt = await attemptOf(sessionId);
      assert.equal(attempt.id, s.request.attemptId, 'the attempt id is the idempotency key');
      assert.equal(attempt.status, 'session_created');
      const again = await client.send(`/orders/${invoice.orderId}/pay`, { form: {} });
      assert.equal(again.headers.get('location'), `http://gateway.test/pay/${sessionId}`);
      assert.equal(
        (await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, invoice.id))).length,
        1,
      );
    });

    it('two "Pay now" clicks at once make one attempt and one session', async () => {
      const { invoice } = await payNow();
      await deliver(
        gateway.move([...gateway.sessions.values()].find((x) => x.request.invoiceId === invoice.id)!.id, 'declined'),
      );
      const [a, b] = await Promise.all([
        client.send(`/orders/${invoice.orderId}/pay`, { form: {} }),
        client.send(`/orders/${invoice.orderId}/pay`, { form: {} }),
      ]);
      assert.equal(a.headers.get('location'), b.headers.get('location'));
      const open = (
        await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, invoice.id))
      ).filter((x) => x.status !== 'declined');
      assert.equal(open.length, 1);
    });

    it('accepts a verified payment.authorized: invoice and order paid, attempt paid, audit, real-time message, receipt kept; then 200', async () => {
      const { sessionId, invoice } = await payNow();
      const event = gateway.move(sessionId, 'authorized');
      const res = await deliver(event);
      assert.equal(res.status, 200);
      assert.equal((await invoiceRow(invoice.id)).status, 'paid');
      assert.equal((await attemptOf(sessionId)).status, 'paid');
      const [order] = await database.db.select().from(orders).where(eq(orders.id, invoice.orderId));
      assert.equal(order!.status, 'paid');
      assert.equal(await audits('invoice.pay', invoice.id), 1);
      const messages = await database.db
        .select()
        .from(realtimeMessages)
        .where(eq(realtimeMessages.room, `invoice:${invoice.id}`));
      assert.ok(messages.some((m) => (m.payload as { status: string }).status === 'paid'));
      assert.deepEqual(
        (await receiptsFor(event.id)).map((r) => r.verdict),
        ['accepted'],
      );
      // captured afterwards moves the attempt on
      assert.equal((await deliver(gateway.move(sessionId, 'captured'))).status, 200);
      assert.equal((await attemptOf(sessionId)).status, 'captured');
    });

    it('a second click while the first waits for its session asks for the same one; the attempt moves to session_created once', async () => {
      const create = gateway.createSession;
      let second: Response | undefined;
      // The gateway is slow to answer the first click; meanwhile the payer clicks "Pay now" on the order.
      gateway.createSession = async function (this: FakeGateway, request) {
        gateway.createSession = create;
        const [invoice] = await database.db.select().from(invoices).where(eq(invoices.id, request.invoiceId));
        second = await client.send(`/orders/${invoice!.orderId}/pay`, { form: {} });
        return create.call(this, request);
      };
      let paid: Awaited<ReturnType<typeof payNow>>;
      try {
        paid = await payNow();
      } finally {
        gateway.createSession = create;
      }
      assert.equal(second?.status, 303);
      assert.equal(second?.headers.get('location'), `http://gateway.test/pay/${paid.sessionId}`);
      const attempt = await attemptOf(paid.sessionId);
      assert.equal(attempt.status, 'session_created');
      assert.equal(
        (await database.db.select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, paid.invoice.id))).length,
        1,
      );
      assert.equal(await audits('attempt.session_created', attempt.id), 1, 'the later click moves nothing');
    });

    it('a webhook that adopted the session before Pay now recorded it: the adopted attempt gets the page, the clicked one fails', async () => {
      const create = gateway.createSession;
      let early: Response | undefined;
      // The session's first event lands after the gateway made it and before the shop records it.
      gateway.createSession = async function (this: FakeGateway, request) {
        gateway.createSession = create;
        const made = await create.call(this, request);
        early = await deliver(gateway.move(made.sessionId, 'processing'));
        return made;
      };
      let paid: Awaited<ReturnType<typeof payNow>>;
      try {
        paid = await payNow();
      } finally {
        gateway.createSession = create;
      }
      assert.equal(early?.status, 200);
      const holder = await attemptOf(paid.sessionId);
      assert.equal(holder.redirectUrl, `http://gateway.test/pay/${paid.sessionId}`, 'the adopted attempt has the page');
      assert.equal(await audits('attempt.adopted', holder.id), 1);
      const all = await database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.invoiceId, paid.invoice.id));
      assert.equal(all.length, 2);
      const clicked = all.find((a) => a.id !== holder.id)!;
      assert.equal(clicked.status, 'failed');
      assert.equal(clicked.gatewaySessionId, null, "the session stays the adopted attempt's");
      assert.equal(await audits('attempt.failed', clicked.id), 1);
      assert.equal(await audits('attempt.session_created', clicked.id), 0);
    });

    it('applies a duplicate delivery once: the second answers 200 and changes nothing', async () => {
      const { sessionId, invoice } = await payNow();
      const event = gateway.move(sessionId, 'authorized');
      const [a, b] = await Promise.all([deliver(event), deliver(event)]);
      assert.deepEqual([a.status, b.status].sort(), [200, 200]);
      assert.equal((await deliver(event)).status, 200);
      assert.equal(await audits('invoice.pay', invoice.id), 1);
      const events = await database.db
        .select()
        .from(orderStatusEvents)
        .where(and(eq(orderStatusEvents.orderId, invoice.orderId), eq(orderStatusEvents.toStatus, 'paid')));
      assert.equal(events.length, 1);
      assert.deepEqual((await receiptsFor(event.id)).map((r) => r.verdict).sort(), [
        'accepted',
        'duplicate',
        'duplicate',
      ]);
    });

    it('refuses a forged signature, an altered body, a stale or future timestamp and a retired secret, changing nothing, and counts each refusal', async () => {
      const { sessionId, invoice } = await payNow();
      const countsBefore = await refusalCounts();
      const event = gateway.move(sessionId, 'authorized');
      const tampered = JSON.stringify({ ...event, data: { ...event.data, amount: { minor: '1', currency: 'EUR' } } });
      const cases: Array<[string, Response]> = [
        ['forged', await deliver(event, { secrets: [newWebhookSecret()] })],
        ['altered body', await deliver(event, { body: tampered })],
        ['stale timestamp', await deliver(event, { timestamp: new Date(clock.now().getTime() - 301_000) })],
        ['future timestamp', await deliver(event, { timestamp: new Date(clock.now().getTime() + 301_000) })],
        ['retired secret', await deliver(event, { secrets: [retired] })],
      ];
      for (const [what, res] of cases) assert.equal(res.status, 401, what);
      const missing = await shop.app.request('/webhooks/gateway', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
      });
      assert.equal(missing.status, 400);
      assert.equal((await invoiceRow(invoice.id)).status, 'open');
      assert.equal((await attemptOf(sessionId)).status, 'session_created');
      assert.equal(
        (await database.db.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, event.id))).length,
        0,
        'not even deduplicated',
      );
      // Anyone can send these: they are counted per reason, not stored one row each (webhook-refusals.ts).
      assert.equal((await receiptsFor(event.id)).length, 0, 'no receipt for an unverified delivery');
      const counts = await refusalCounts();
      const added = (reason: string) => (counts[reason] ?? 0) - (countsBefore[reason] ?? 0);
      assert.deepEqual(
        [
          added('webhook.signature_invalid'),
          added('webhook.timestamp_out_of_tolerance'),
          added('webhook.headers_missing'),
        ],
        [3, 2, 1],
      );
      // Within the tolerance, and signed with the previous secret during a rotation: accepted.
      assert.equal(
        (await deliver(event, { secrets: [previous], timestamp: new Date(clock.now().getTime() - 290_000) })).status,
        200,
      );
      assert.equal((await invoiceRow(invoice.id)).status, 'paid');
    });

    it('ignores an event older than what was applied (out of order), and repeats nothing', async () => {
      const { sessionId, invoice } = await payNow();
      const approval = gateway.move(sessionId, 'requires_approval');
      const authorized = gateway.move(sessionId, 'authorized');
      assert.equal((await deliver(authorized)).status, 200);
      assert.equal((await deliver(approval)).status, 200);
      assert.equal((await attemptOf(sessionId)).status, 'paid');
      const stale = wireEvent({
        sessionId,
        invoiceId: invoice.id,
        amount: money(invoice.amountMinor, 'EUR'),
        status: 'declined',
        sequence: authorized.data.sequence - 1,
      });
      assert.equal((await deliver(stale)).status, 200);
      assert.equal((await attemptOf(sessionId)).status, 'paid');
      const [row] = await database.db.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, stale.id));
      assert.equal(row!.verdict, 'ignored');
    });

    it('refuses with 409 an amount or currency different from the invoice, keeps the refusal, and a redelivery is refused again', async () => {
      for (const amount of ['minor', 'currency'] as const) {
        const { sessionId, invoice } = await payNow();
        const s = gateway.sessions.get(sessionId)!;
        s.request = {
          ...s.request,
          amount: amount === 'minor' ? money(invoice.amountMinor - 1n, 'EUR') : money(invoice.amountMinor, 'USD'),
        };
        const event = gateway.move(sessionId, 'authorized');
        const res = await deliver(event);
        assert.equal(res.status, 409, amount);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invoice.amount_mismatch');
        assert.equal((await invoiceRow(invoice.id)).status, 'open');
        const attempt = await attemptOf(sessionId);
        assert.equal(attempt.status, 'refused');
        assert.equal(attempt.reason, 'invoice.amount_mismatch');
        // The event keeps the code and the reason apart; the delivery's receipt names the code.
        const [decided] = await database.db.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, event.id));
        assert.deepEqual(
          [decided!.verdict, decided!.code, decided!.reason],
          ['refused', 'invoice.amount_mismatch', 'The amount or currency does not match the invoice.'],
        );
        assert.deepEqual(
          (await receiptsFor(event.id)).map((r) => [r.verdict, r.reason]),
          [['refused', 'invoice.amount_mismatch']],
        );
        assert.equal(
          (await deliver(event)).status,
          409,
          'a duplicate of a refusal is still a refusal (else the gateway would capture)',
        );
        assert.deepEqual(
          (await receiptsFor(event.id)).map((r) => r.verdict),
          ['refused', 'duplicate'],
        );
      }
    });

    it("refuses a reference that is not one of this shop's invoices", async () => {
      const event = wireEvent({
        sessionId: 'ps_foreign1',
        invoiceId: 'inv_01JAAAAAAAAAAAAAAAAAAAAAAA',
        amount: money(1000n, 'EUR'),
        status: 'authorized',
        sequence: 3,
      });
      const res = await deliver(event);
      assert.equal(res.status, 409);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invoice.unknown');
      const other = wireEvent({
        sessionId: 'ps_foreign2',
        invoiceId: 'order-42',
        amount: money(1000n, 'EUR'),
        status: 'authorized',
        sequence: 3,
      });
      assert.equal((await deliver(other)).status, 409);
      assert.equal((await receiptsFor(event.id))[0]!.verdict, 'refused');
    });

    it('refuses an authorisation that arrives after the invoice expired (409), and the invoice stays unpaid', async () => {
      const { sessionId, invoice } = await payNow();
      clock.advance(invoice.expiresAt.getTime() - clock.now().getTime() + 1000);
      try {
        const res = await deliver(gateway.move(sessionId, 'authorized'));
        assert.equal(res.status, 409);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invoice.expired');
        assert.notEqual((await invoiceRow(invoice.id)).status, 'paid');
        assert.equal((await attemptOf(sessionId)).status, 'refused');
      } finally {
        clock.set(Date.now());
      }
    });

    it('a declined attempt is retried on the same invoice; an authorisation of another attempt of a paid invoice is refused as already paid', async () => {
      const first = await payNow();
      assert.equal((await deliver(gateway.move(first.sessionId, 'declined', 'card_declined'))).status, 200);
      assert.equal((await attemptOf(first.sessionId)).status, 'declined');
      const retry = await client.send(`/orders/${first.invoice.orderId}/pay`, { form: {} });
      const secondSession = /\/pay\/(ps_\w+)$/.exec(retry.headers.get('location') ?? '')![1]!;
      assert.notEqual(secondSession, first.sessionId);
      assert.equal(
        gateway.sessions.get(secondSession)!.request.invoiceId,
        first.invoice.id,
        'same invoice, new attempt',
      );
      assert.equal((await deliver(gateway.move(secondSession, 'authorized'))).status, 200);
      // A third session for the same invoice (e.g. paid twice in two tabs) is refused: the gateway voids it.
      const [att] = await database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, secondSession));
      const third = await gateway.createSession({
        ...gateway.sessions.get(secondSession)!.request,
        attemptId: 'att_other',
      });
      const res = await deliver(gateway.move(third.sessionId, 'authorized'));
      assert.equal(res.status, 409);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invoice.already_paid');
      assert.equal(await audits('invoice.pay', first.invoice.id), 1);
      assert.equal((await attemptOf(secondSession)).id, att!.id);
    });

    it('the return URL asks the gateway and applies its answer; racing the webhook it fulfils the order exactly once', async () => {
      const { sessionId, invoice } = await payNow();
      const plain = await client.send(`/invoices/${invoice.id}`);
      assert.equal(plain.status, 200);
      assert.equal((await invoiceRow(invoice.id)).status, 'open', 'the page alone changes nothing');
      // Back without paying (the session is still waiting for a card): nothing is "in progress".
      assert.doesNotMatch(
        await (await client.send(`/invoices/${invoice.id}?from=gateway`)).text(),
        /data-in-progress="true"/,
      );
      assert.equal((await attemptOf(sessionId)).status, 'session_created');
      const event = gateway.move(sessionId, 'authorized');
      const [page, hook] = await Promise.all([client.send(`/invoices/${invoice.id}?from=gateway`), deliver(event)]);
      assert.equal(page.status, 200);
      assert.equal(hook.status, 200);
      assert.match(await page.text(), /data-testid="invoice-status"[^>]*>paid|Paid — thank you/);
      assert.equal((await invoiceRow(invoice.id)).status, 'paid');
      assert.equal(await audits('invoice.pay', invoice.id), 1);
      const paidEvents = await database.db
        .select()
        .from(orderStatusEvents)
        .where(and(eq(orderStatusEvents.orderId, invoice.orderId), eq(orderStatusEvents.toStatus, 'paid')));
      assert.equal(paidEvents.length, 1);
    });

    it('"check payment status" on my orders asks the gateway through the same path', async () => {
      const { sessionId, invoice } = await payNow();
      gateway.move(sessionId, 'authorized');
      const list = await (await client.send('/orders')).text();
      assert.match(list, new RegExp(`/orders/${invoice.orderId}/check-payment`));
      const res = await client.send(`/orders/${invoice.orderId}/check-payment`, { form: {} });
      assert.equal(res.status, 303);
      assert.equal((await invoiceRow(invoice.id)).status, 'paid');
    });

    it('recovers a dropped webhook from the event feed (cursor kept) and polls attempts pending too long', async () => {
      const { sessionId, invoice } = await payNow();
      gateway.move(sessionId, 'authorized'); // never delivered
      const deps = { database, gateway, clock };
      await readEventFeed(deps);
      assert.equal((await invoiceRow(invoice.id)).status, 'paid');
      const before = gateway.calls.length;
      assert.equal(await readEventFeed(deps), 0, 'the cursor was stored: nothing is read twice');
      assert.equal(gateway.calls.length, before);

      const second = await payNow();
      gateway.move(second.sessionId, 'authorized');
      assert.equal(await reconcilePendingAttempts(deps, 900), 0, 'not old enough yet');
      clock.advance(901_000);
      try {
        assert.ok((await reconcilePendingAttempts(deps, 900)) >= 1);
        assert.equal((await invoiceRow(second.invoice.id)).status, 'paid');
      } finally {
        clock.set(Date.now());
      }
    });

    it('reads past feed news the webhooks already applied without a transaction each; news applied first from the feed goes through again and is acknowledged again', async () => {
      const acknowledged: string[] = [];
      // Our gateway's adapter acknowledges news that did not come as a webhook; the fake, as a test double, records it.
      const acking = Object.create(gateway, {
        acknowledgeSession: { value: async (id: string) => (acknowledged.push(id), true) },
      }) as FakeGateway & { acknowledgeSession(id: string): Promise<boolean> };
      let transactions = 0;
      const counting = Object.create(database, {
        transaction: {
          value: (fn: Parameters<Database['transaction']>[0]) => (transactions++, database.transaction(fn)),
        },
      }) as Database;
      const deps = { database: counting, gateway: acking, clock };
      await readEventFeed(deps); // what earlier cases left in the feed

      const delivered = await payNow();
      assert.equal((await deliver(gateway.move(delivered.sessionId, 'authorized'))).status, 200);
      assert.equal((await deliver(gateway.move(delivered.sessionId, 'captured'))).status, 200);
      const dropped = await payNow();
      gateway.move(dropped.sessionId, 'authorized'); // never delivered
      const cursor = await readPaymentState(database.db, FEED_CURSOR_KEY);
      transactions = 0;
      acknowledged.length = 0;
      assert.equal(await readEventFeed(deps), 3, 'all three are read');
      assert.equal(transactions, 1, 'only the news no webhook brought is applied');
      assert.equal((await invoiceRow(dropped.invoice.id)).status, 'paid');
      assert.deepEqual(acknowledged, [dropped.sessionId]);

      // A crash before the cursor was saved: the page is read again. The webhooks' news is passed over; the
      // authorisation the feed applied is applied again as a duplicate and acknowledged again (the
      // gateway may not have received the first acknowledgement).
      await savePaymentState(database.db, FEED_CURSOR_KEY, cursor!, clock.now());
      transactions = 0;
      acknowledged.length = 0;
      assert.equal(await readEventFeed(deps), 3);
      assert.equal(transactions, 1);
      assert.deepEqual(acknowledged, [dropped.sessionId]);
      assert.equal(await audits('invoice.pay', dropped.invoice.id), 1, 'paid once');
    });

    it('expiry expires the invoice and its order follows, queues the session cancellation, and the cancel job closes the attempt', async () => {
      const { sessionId, invoice } = await payNow();
      clock.advance(invoice.expiresAt.getTime() - clock.now().getTime() + 1000);
      try {
        const expired = await expireInvoices({ database, clock });
        assert.ok(expired.includes(invoice.id));
        assert.equal((await invoiceRow(invoice.id)).status, 'expired');
        const [order] = await database.db.select().from(orders).where(eq(orders.id, invoice.orderId));
        // The order follows the one rule: an expired invoice leaves it awaiting payment (a new invoice can be issued).
        assert.equal(order!.status, 'awaiting_payment');
        assert.equal(await audits('invoice.expire', invoice.id), 1);
        const queued = await database.db
          .select()
          .from(jobs)
          .where(and(eq(jobs.task, CANCEL_SESSION_TASK), eq(jobs.key, `cancel:${sessionId}`)));
        assert.equal(queued.length, 1);
        await cancelGatewaySession({ database, gateway, clock }, queued[0]!.payload);
        assert.equal(gateway.sessions.get(sessionId)!.status, 'canceled');
        assert.equal((await attemptOf(sessionId)).status, 'expired');
      } finally {
        clock.set(Date.now());
      }
    });

    it('answers 500 when applying fails before the commit (nothing changed, kept as error), so the gateway retries and the retry is applied', async () => {
      const { sessionId, invoice } = await payNow();
      const event = gateway.move(sessionId, 'authorized');
      const transaction = database.transaction;
      (database as { transaction: unknown }).transaction = async () => {
        throw new Error('connection lost');
      };
      let res: Response;
      try {
        res = await deliver(event);
      } finally {
        (database as { transaction: unknown }).transaction = transaction;
      }
      assert.equal(res.status, 500);
      assert.equal((await invoiceRow(invoice.id)).status, 'open');
      assert.deepEqual(
        (await receiptsFor(event.id)).map((r) => r.verdict),
        ['error'],
      );
      assert.equal((await deliver(event)).status, 200, 'the retry is not mistaken for a duplicate');
      assert.equal((await invoiceRow(invoice.id)).status, 'paid');
    });

    it('shows staff every webhook received with its verdict and every attempt; customers are denied', async () => {
      const staff = new ShopClient(app, '198.51.100.10');
      assert.equal((await staff.login(...DEMO.staff)).status, 303);
      const html = await (await staff.send('/staff/payments')).text();
      for (const verdict of ['accepted', 'duplicate', 'refused', 'ignored'])
        assert.match(html, new RegExp(`class="status ${verdict}"`), verdict);
      // Unverified deliveries apart: counted per reason, with samples.
      assert.match(html, /data-testid="webhook-refusal-count" data-reason="webhook\.signature_invalid"/);
      assert.match(html, /data-testid="webhook-refusal-sample"/);
      assert.match(html, /invoice\.amount_mismatch/);
      assert.match(html, /data-testid="staff-attempt"/);
      assert.equal((await client.send('/staff/payments')).status, 404);
    });

    it('documents the webhook intake in /openapi.json', async () => {
      const doc = (await (await shop.app.request('/openapi.json')).json()) as {
        paths: Record<string, { post?: { responses: Record<string, unknown> } }>;
      };
      assert.ok(doc.paths['/webhooks/gateway']?.post?.responses['409']);
    });
  });
}
