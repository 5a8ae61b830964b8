// The shop's side of disputes on both engines, in process, with the in-memory gateway behind the port:
// a signed `dispute.created` makes the paid order disputed (with its audit trail and the order-status
// event, in one transaction); staff see the deadline and answer — evidence (their text and files, the
// receipt and audit trail attached automatically) or acceptance — through the port; the decision
// moves the order back to paid or to dispute_lost. The attacker's view: forged, replayed, unknown or
// oversized dispute news changes nothing; customers, a missing CSRF token and bad files are refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { money } from '../src/core/money.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { FakeGateway, signedDelivery, wireDisputeEvent } from '../src/shop/adapters/gateway.fake.ts';
import { reconcileOnce } from '../src/shop/jobs/reconcile.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import {
  auditLog,
  disputes,
  gatewayEvents,
  invoices,
  orders,
  orderStatusEvents,
  paymentAttempts,
  webhookReceipts,
} from '../src/shop/storage/tables.ts';
import { reconciliationFindings } from '../src/shop/storage/payments.ts';
import { checkoutForm, DEMO } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';

const SECRET = 'dispute-test-secret-'.padEnd(48, 'x');

for (const engine of testEngines()) {
  describe(`shop disputes: intake, order, staff answers (${engine})`, () => {
    let shop: ServiceHandle;
    let database: Database;
    const clock = fakeClock(Date.now());
    const gateway = new FakeGateway();
    const current = newWebhookSecret();
    const app = { request: (path: string, init?: RequestInit) => shop.app.request(path, init) };
    let customer: ShopClient;
    let other: ShopClient;
    let staff: ShopClient;
    let productId = '';
    let deliveryId = '';

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      const config = loadShopConfig({
        SHOP_PORT: '0',
        SHOP_SESSION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
        SHOP_TRUST_PROXY: 'true',
        SHOP_GATEWAY_WEBHOOK_SECRETS: current,
      });
      shop = await startShop(config, { database, clock, gateway, jobs: false });
      productId = (await listProducts(database.db))[0]!.id;
      deliveryId = (await listDeliveryMethods(database.db))[0]!.id;
      customer = new ShopClient(app, '198.51.100.21');
      other = new ShopClient(app, '198.51.100.22');
      staff = new ShopClient(app, '198.51.100.23');
      assert.equal((await customer.login(...DEMO.customer)).status, 303);
      assert.equal((await other.login(...DEMO.other)).status, 303);
      assert.equal((await staff.login(...DEMO.staff)).status, 303);
    });
    after(async () => {
      await shop?.stop();
    });

    const deliver = (event: { id: string }, secrets = [current]) => {
      const d = signedDelivery(event, secrets, clock.now());
      return shop.app.request('/webhooks/gateway', { method: 'POST', headers: d.headers, body: d.body });
    };
    const orderOf = async (orderId: string) =>
      (await database.db.select().from(orders).where(eq(orders.id, orderId)))[0]!;
    const invoiceOf = async (id: string) => (await database.db.select().from(invoices).where(eq(invoices.id, id)))[0]!;
    const disputeRow = async (id: string) => (await database.db.select().from(disputes).where(eq(disputes.id, id)))[0];
    const auditActions = async (subject: string) =>
      (await database.db.select().from(auditLog).where(eq(auditLog.subject, subject)).orderBy(auditLog.seq)).map(
        (a) => `${a.actor}:${a.action}`,
      );

    /** A paid (captured) order of the customer: its order id, invoice and gateway session. */
    async function paidOrder() {
      await customer.emptyCart();
      const cartId = await checkoutForm(customer, {
        lines: [{ productId, quantity: 1 }],
        deliveryMethodId: deliveryId,
      });
      const res = await customer.send('/checkout/pay', { form: { cartId } });
      const sessionId = /\/pay\/(ps_\w+)$/.exec(res.headers.get('location') ?? '')?.[1];
      assert.ok(sessionId, 'redirected to the hosted page');
      const invoiceId = gateway.sessions.get(sessionId)!.request.invoiceId;
      assert.equal((await deliver(gateway.move(sessionId, 'authorized'))).status, 200);
      assert.equal((await deliver(gateway.move(sessionId, 'captured'))).status, 200);
      const invoice = await invoiceOf(invoiceId);
      assert.equal((await orderOf(invoice.orderId)).status, 'paid');
      return { sessionId, invoice, orderId: invoice.orderId };
    }

    /** Opens a dispute at the gateway and delivers its signed `dispute.created`; returns its id. */
    async function disputed(sessionId: string, options: Parameters<FakeGateway['dispute']>[1] = {}) {
      const event = gateway.dispute(sessionId, { now: clock.now(), ...options });
      const res = await deliver(event);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { received: true, verdict: 'accepted' });
      return event.data.object.id;
    }

    /** Posts a multipart form as this client (with its CSRF token unless told otherwise). */
    async function postMultipart(
      client: ShopClient,
      path: string,
      fields: Record<string, string | File[]>,
      csrf = true,
    ) {
      const form = new FormData();
      if (csrf) form.set('_csrf', await client.csrf());
      for (const [k, v] of Object.entries(fields)) {
        if (typeof v === 'string') form.set(k, v);
        else for (const f of v) form.append(k, f);
      }
      const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      return shop.app.request(path, {
        method: 'POST',
        headers: { cookie, 'x-forwarded-for': client.ip, accept: 'text/html' },
        body: form,
      });
    }

    it('a signed dispute.created makes the paid order and invoice disputed, records the dispute with its deadline, audits and publishes it in one go', async () => {
      const { sessionId, invoice, orderId } = await paidOrder();
      const dueBy = new Date(clock.now().getTime() + 3 * 86_400_000 + 5 * 3_600_000);
      const id = await disputed(sessionId, { dueBy, reason: 'fraudulent' });
      const row = (await disputeRow(id))!;
      assert.equal(row.status, 'needs_response');
      assert.equal(row.orderId, orderId);
      assert.equal(row.amountMinor, invoice.amountMinor);
      assert.equal(row.reason, 'fraudulent');
      assert.equal(row.evidenceDueBy.getTime(), dueBy.getTime());
      assert.equal((await orderOf(orderId)).status, 'disputed');
      assert.equal((await invoiceOf(invoice.id)).status, 'disputed');
      assert.deepEqual(await auditActions(id), ['gateway:dispute.opened']);
      assert.ok((await auditActions(invoice.id)).includes('gateway:invoice.dispute'));
      const published = await database.db
        .select()
        .from(orderStatusEvents)
        .where(eq(orderStatusEvents.orderId, orderId));
      assert.ok(
        published.some((e) => e.fromStatus === 'paid' && e.toStatus === 'disputed'),
        'integrations hear of it',
      );

      // Payment news of the same payment arriving late is not a refusal and leaves the order disputed.
      const late = await deliver(gateway.move(sessionId, 'captured'));
      assert.equal(late.status, 200);
      assert.equal((await orderOf(orderId)).status, 'disputed');
      const [attempt] = await database.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.gatewaySessionId, sessionId));
      assert.equal(attempt!.status, 'captured');
      // The receipt still downloads for the owner, and the payment is no reconciliation finding.
      assert.equal((await customer.send(`/orders/${orderId}/receipt.pdf`)).status, 200);
      assert.ok(!(await reconciliationFindings(database.db)).some((f) => f.orderId === orderId));

      // The owner sees it; another customer sees nothing of the order or its dispute.
      const mine = await (await customer.send(`/orders/${orderId}`)).text();
      assert.match(mine, /data-testid="order-status">disputed</);
      assert.match(mine, /data-testid="order-dispute-notice"/);
      const theirs = await other.send(`/orders/${orderId}`);
      assert.equal(theirs.status, 404);
      assert.doesNotMatch(await theirs.text(), /dispute/i);

      // Staff see the dispute with its deadline and the time left, and the two answers.
      const page = await (await staff.send(`/staff/orders/${orderId}`)).text();
      assert.match(page, /data-testid="dispute-time-left">3 days 5 h left</);
      assert.match(page, /data-testid="dispute-evidence-form"/);
      assert.match(page, /data-testid="dispute-accept-form"/);
    });

    it('a replayed or forged dispute delivery changes nothing', async () => {
      const { sessionId, orderId } = await paidOrder();
      const event = gateway.dispute(sessionId, { now: clock.now() });
      const id = event.data.object.id;
      const forged = await deliver(event, [newWebhookSecret()]);
      assert.equal(forged.status, 401);
      assert.equal(await disputeRow(id), undefined);
      assert.equal((await orderOf(orderId)).status, 'paid');
      assert.equal((await deliver(event)).status, 200);
      const replay = await deliver(event);
      assert.equal(replay.status, 200);
      assert.equal(((await replay.json()) as { verdict: string }).verdict, 'duplicate');
      assert.deepEqual(await auditActions(id), ['gateway:dispute.opened']);
      // A closed event forged with a stranger's secret does not decide it either.
      assert.equal((await deliver(gateway.moveDispute(id, 'lost'), [newWebhookSecret()])).status, 401);
      assert.equal((await disputeRow(id))!.status, 'needs_response');
      assert.equal((await orderOf(orderId)).status, 'disputed');
    });

    it('a dispute of a payment of no order here, of more than was paid, or in another currency is recorded as ignored and changes nothing', async () => {
      const { sessionId, invoice, orderId } = await paidOrder();
      const base = {
        disputeId: 'dp_stranger1',
        sessionId: 'ps_not_ours',
        amount: money(100n, 'EUR'),
        reason: 'general',
        status: 'needs_response' as const,
        evidenceDueBy: new Date(clock.now().getTime() + 86_400_000),
        created: clock.now(),
      };
      const cases = [
        ['invoice.unknown', wireDisputeEvent(base, 'dispute.created')],
        [
          'invoice.amount_mismatch',
          wireDisputeEvent(
            { ...base, disputeId: 'dp_toolarge1', sessionId, amount: money(invoice.amountMinor + 1n, 'EUR') },
            'dispute.created',
          ),
        ],
        [
          'invoice.amount_mismatch',
          wireDisputeEvent(
            { ...base, disputeId: 'dp_currency1', sessionId, amount: money(invoice.amountMinor, 'USD') },
            'dispute.created',
          ),
        ],
      ] as const;
      for (const [code, event] of cases) {
        const res = await deliver(event);
        assert.equal(res.status, 200, 'not retried for a day');
        assert.deepEqual(await res.json(), { received: true, verdict: 'ignored' });
        const [applied] = await database.db.select().from(gatewayEvents).where(eq(gatewayEvents.eventId, event.id));
        assert.equal(applied!.code, code);
        const [receipt] = await database.db.select().from(webhookReceipts).where(eq(webhookReceipts.eventId, event.id));
        assert.equal(receipt!.verdict, 'ignored');
        assert.equal(await disputeRow(event.data.object.id), undefined);
      }
      assert.equal((await orderOf(orderId)).status, 'paid');
    });

    it('staff submit evidence with a file: receipt and audit trail attached, winning_evidence wins, the order is paid again', async () => {
      const { sessionId, orderId, invoice } = await paidOrder();
      const id = await disputed(sessionId);
      const note = new File(['Tracking 1Z999, delivered to the door.'], 'delivery note.txt', { type: 'text/plain' });
      const res = await postMultipart(staff, `/staff/disputes/${id}/evidence`, {
        text: 'Delivered as ordered; signed for. winning_evidence',
        files: [note],
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), `/staff/orders/${orderId}#disputes`);
      const sent = gateway.disputes.get(id)!.evidence!;
      assert.match(sent.text, /winning_evidence/);
      assert.deepEqual(
        sent.files.map((f) => [f.name, f.contentType]),
        [
          [`receipt-${orderId}.pdf`, 'application/pdf'],
          [`audit-trail-${orderId}.txt`, 'text/plain'],
          ['delivery_note.txt', 'text/plain'],
        ],
      );
      assert.equal(Buffer.from(sent.files[0]!.content.subarray(0, 5)).toString(), '%PDF-');
      assert.match(Buffer.from(sent.files[1]!.content).toString(), new RegExp(`invoice\\.pay ${invoice.id}`));
      const row = (await disputeRow(id))!;
      assert.equal(row.status, 'won');
      assert.ok(row.evidenceSubmittedAt);
      assert.equal((await orderOf(orderId)).status, 'paid');
      assert.equal((await invoiceOf(invoice.id)).status, 'paid');
      assert.equal((await invoiceOf(invoice.id)).paidAt?.getTime(), invoice.paidAt?.getTime(), 'first paid time kept');
      const actions = await auditActions(id);
      assert.equal(actions[0], 'gateway:dispute.opened');
      assert.match(actions[1]!, /^usr_\w+:dispute\.review$/);
      assert.equal(actions[2], 'gateway:dispute.win');
      // A second answer to a decided dispute is refused and sends nothing.
      const calls = gateway.calls.length;
      const again = await postMultipart(staff, `/staff/disputes/${id}/evidence`, { text: 'More evidence here.' });
      assert.equal(again.status, 409);
      assert.equal(gateway.calls.length, calls);
    });

    it('staff accept a dispute only when confirmed: the dispute is lost and the order dispute_lost', async () => {
      const { sessionId, orderId } = await paidOrder();
      const id = await disputed(sessionId);
      const unconfirmed = await staff.send(`/staff/disputes/${id}/accept`, { form: {} });
      assert.equal(unconfirmed.status, 422);
      assert.equal((await disputeRow(id))!.status, 'needs_response');
      const res = await staff.send(`/staff/disputes/${id}/accept`, { form: { confirm: 'yes' } });
      assert.equal(res.status, 303);
      const row = (await disputeRow(id))!;
      assert.equal(row.status, 'lost');
      assert.ok(row.acceptedAt);
      assert.equal((await orderOf(orderId)).status, 'dispute_lost');
      assert.match(await (await customer.send(`/orders/${orderId}`)).text(), /went back to your card/);
      // The gateway's own news of it afterwards changes nothing more.
      const late = await deliver(gateway.moveDispute(id, 'lost'));
      assert.equal(((await late.json()) as { verdict: string }).verdict, 'ignored');
      assert.equal((await orderOf(orderId)).status, 'dispute_lost');
    });

    it('customers cannot answer a dispute, a form without the CSRF token is refused, and bad files are refused before the gateway', async () => {
      const { sessionId } = await paidOrder();
      const id = await disputed(sessionId);
      const calls = gateway.calls.length;
      assert.equal(
        (await postMultipart(customer, `/staff/disputes/${id}/evidence`, { text: 'winning_evidence x' })).status,
        404,
      );
      assert.equal((await customer.send(`/staff/disputes/${id}/accept`, { form: { confirm: 'yes' } })).status, 404);
      assert.equal((await customer.send('/staff/disputes')).status, 404);
      assert.equal(
        (await postMultipart(staff, `/staff/disputes/${id}/evidence`, { text: 'winning_evidence x' }, false)).status,
        403,
      );
      assert.equal(
        (await staff.send(`/staff/disputes/${id}/accept`, { form: { confirm: 'yes' }, csrf: false })).status,
        403,
      );
      const fake = new File(['MZ this is no pdf'], 'invoice.pdf', { type: 'application/pdf' });
      const exe = new File(['MZ'], 'tool.exe', { type: 'application/octet-stream' });
      const big = new File([new Uint8Array(200 * 1024).fill(65)], 'big.txt', { type: 'text/plain' });
      for (const files of [[fake], [exe], [big]]) {
        const res = await postMultipart(staff, `/staff/disputes/${id}/evidence`, {
          text: 'Delivered as ordered.',
          files,
        });
        assert.equal(res.status, 422);
      }
      assert.equal(gateway.calls.length, calls, 'nothing was sent to the gateway');
      assert.equal((await disputeRow(id))!.status, 'needs_response');
    });

    it('news of a decision reaches the order by webhook, a stale update after it changes nothing, and reconciliation recovers a lost one', async () => {
      const a = await paidOrder();
      const idA = await disputed(a.sessionId);
      assert.equal(
        (await postMultipart(staff, `/staff/disputes/${idA}/evidence`, { text: 'Delivered as ordered.' })).status,
        303,
      );
      assert.equal((await disputeRow(idA))!.status, 'under_review');
      const updated = gateway.moveDispute(idA, 'under_review');
      assert.equal((await deliver(gateway.moveDispute(idA, 'lost'))).status, 200);
      assert.equal((await orderOf(a.orderId)).status, 'dispute_lost');
      assert.equal(((await (await deliver(updated)).json()) as { verdict: string }).verdict, 'ignored');
      assert.equal((await disputeRow(idA))!.status, 'lost');

      const b = await paidOrder();
      const idB = await disputed(b.sessionId);
      gateway.moveDispute(idB, 'won'); // the cardholder withdrew it; the webhook is lost
      await reconcileOnce({ database, gateway, clock }, { pendingAgeSeconds: 900 });
      assert.equal((await disputeRow(idB))!.status, 'won');
      assert.equal((await orderOf(b.orderId)).status, 'paid');
    });

    it('/staff/disputes lists the open disputes, soonest deadline first', async () => {
      const later = await paidOrder();
      const sooner = await paidOrder();
      const idLater = await disputed(later.sessionId, { dueBy: new Date(clock.now().getTime() + 90 * 86_400_000) });
      const idSooner = await disputed(sooner.sessionId, { dueBy: new Date(clock.now().getTime() + 60_000) });
      const html = await (await staff.send('/staff/disputes')).text();
      const rows = [...html.matchAll(/<tr data-testid="staff-dispute-row">[\s\S]*?<\/tr>/g)].map((m) => m[0]);
      const at = (orderId: string) => rows.findIndex((r) => r.includes(`/staff/orders/${orderId}`));
      assert.ok(at(sooner.orderId) >= 0 && at(later.orderId) > at(sooner.orderId), 'soonest first');
      assert.ok(!rows.some((r) => />won<|>lost</.test(r)), 'closed disputes are not listed');
      const open = await database.db
        .select()
        .from(disputes)
        .where(and(eq(disputes.status, 'needs_response')));
      assert.ok(open.some((d) => d.id === idLater) && open.some((d) => d.id === idSooner));
    });
  });
}
