// Disputes across the three real services, each its own process on its own PostgreSQL database: a
// customer pays in the shop with the demo bank's card; the cardholder disputes the payment in the bank
// app; the bank's chargeback reaches the gateway and the gateway's signed `dispute.created` the shop,
// whose order becomes disputed. Staff answer on the shop's console over HTTP: evidence with
// `winning_evidence` (the bank decides for the merchant at once) brings the order back to paid; on a
// second order, accepting ends it dispute_lost, and the audit trail has both steps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { logIn } from '../src/bank/testing.ts';
import { eventually } from '../src/gateway/testing.ts';
import { countersign } from './support/cli.ts';
import { startPartyProcesses, type PartyProcesses } from './support/harness/processes.ts';
import { APPROVED_CARD, cardDetails, checkoutForm, DEMO } from './support/factories.ts';
import { ShopClient } from './support/shop-client.ts';

describe('disputes between the bank, the gateway and the shop (real processes)', () => {
  let sys: PartyProcesses;
  let customer: ShopClient;
  let staff: ShopClient;

  before(async () => {
    sys = await startPartyProcesses({ BANK_DISPUTE_WINDOW_SECONDS: '3600' });
    const shopApp = {
      request: (path: string, init?: RequestInit) =>
        sys.fetch(`${sys.urls.shop}${path}`, { ...init, redirect: 'manual' }),
    };
    customer = new ShopClient(shopApp, '198.51.100.81');
    staff = new ShopClient(shopApp, '198.51.100.82');
    assert.equal((await customer.login(...DEMO.customer)).status, 303);
    assert.equal((await staff.login(...DEMO.staff)).status, 303);
  });
  after(async () => {
    await sys?.stop();
  });

  const orderStatus = async (orderId: string) =>
    (await sys.query<{ status: string }>('shop', 'select status from orders where id = $1', [orderId]))[0]?.status;
  const disputeOf = async (orderId: string) =>
    (
      await sys.query<{ id: string; status: string }>('shop', 'select id, status from disputes where order_id = $1', [
        orderId,
      ])
    )[0];
  const until = <T>(what: string, probe: () => Promise<T | undefined>) => eventually(probe, 30_000, what);

  /** Pays an order with the demo bank's card; its order id and gateway session once the shop has it paid. */
  async function paidOrder(): Promise<{ orderId: string; sessionId: string }> {
    const [product] = await sys.query<{ id: string }>('shop', 'select id from products where archived = false limit 1');
    const [method] = await sys.query<{ id: string }>('shop', 'select id from delivery_methods limit 1');
    await customer.emptyCart();
    const cartId = await checkoutForm(customer, {
      lines: [{ productId: product!.id, quantity: 1 }],
      deliveryMethodId: method!.id,
    });
    const location = (await customer.send('/checkout/pay', { form: { cartId } })).headers.get('location') ?? '';
    const sessionId = /\/pay\/(ps_\w+)$/.exec(location)?.[1];
    assert.ok(sessionId, `redirected to the hosted page, got ${location}`);
    const pay = await sys.fetch(`${sys.urls.gateway}/pay/${sessionId}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cardDetails(APPROVED_CARD, { name: DEMO_CARDHOLDER.name })),
    });
    assert.ok(pay.status < 300, await pay.text());
    const [row] = await until('the attempt known to the shop', async () => {
      const rows = await sys.query<{ order_id: string; status: string }>(
        'shop',
        'select i.order_id, a.status from payment_attempts a join invoices i on i.id = a.invoice_id where a.gateway_session_id = $1',
        [sessionId],
      );
      return rows[0]?.status === 'captured' ? rows : undefined;
    });
    assert.equal(await orderStatus(row!.order_id), 'paid');
    return { orderId: row!.order_id, sessionId };
  }

  /** The cardholder disputes the newest undisputed payment in the bank app; the shop's order follows. */
  async function disputeInBank(orderId: string): Promise<string> {
    const bank = await logIn(sys.urls.bank, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
    assert.ok(bank.cookie, `logged in to the bank app (${bank.status})`);
    const page = await (await sys.fetch(`${sys.urls.bank}/app/disputes`, { headers: { cookie: bank.cookie } })).text();
    const authorizationId = /name="authorization_id" value="(bauth_\w+)"/.exec(page)?.[1];
    assert.ok(authorizationId, 'a disputable payment in the bank app');
    const res = await sys.fetch(`${sys.urls.bank}/app/disputes`, {
      method: 'POST',
      headers: { cookie: bank.cookie, 'x-csrf-token': bank.csrf, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: bank.csrf, authorization_id: authorizationId, reason: 'product_not_received' }),
    });
    assert.equal(res.status, 201, await res.text());
    const dispute = await until('the dispute at the shop', async () => {
      const d = await disputeOf(orderId);
      return d && (await orderStatus(orderId)) === 'disputed' ? d : undefined;
    });
    assert.equal(dispute.status, 'needs_response');
    const staffPage = await (await staff.send(`/staff/orders/${orderId}`)).text();
    assert.match(
      staffPage,
      /data-testid="dispute-time-left">0 h 5\d min left|data-testid="dispute-time-left">1 h 0 min left/,
    );
    return dispute.id;
  }

  async function submitEvidence(disputeId: string, text: string) {
    const form = new FormData();
    form.set('_csrf', await staff.csrf());
    form.set('text', text);
    form.append('files', new File(['Parcel 1Z999 delivered and signed for.'], 'tracking.txt', { type: 'text/plain' }));
    return sys.fetch(`${sys.urls.shop}/staff/disputes/${disputeId}/evidence`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: [...staff.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: form,
    });
  }

  it('a dispute opened in the bank app makes the order disputed; winning evidence makes it paid again', async () => {
    const { orderId } = await paidOrder();
    const disputeId = await disputeInBank(orderId);
    const res = await submitEvidence(disputeId, 'The customer signed for the parcel. winning_evidence');
    assert.equal(res.status, 303, await res.text());
    const won = await until('the dispute won at the shop', async () =>
      (await disputeOf(orderId))?.status === 'won' ? true : undefined,
    );
    assert.ok(won);
    assert.equal(await orderStatus(orderId), 'paid');
    const gw = (await (
      await sys.fetch(`${sys.urls.gateway}/v1/disputes/${disputeId}`, {
        headers: { authorization: `Bearer ${sys.apiKey}` },
      })
    ).json()) as { status: string };
    assert.equal(gw.status, 'won');
  });

  it('accepting a dispute on the console ends the order dispute_lost, at the gateway too', async () => {
    const { orderId } = await paidOrder();
    const disputeId = await disputeInBank(orderId);
    const res = await staff.send(`/staff/disputes/${disputeId}/accept`, { form: { confirm: 'yes' } });
    assert.equal(res.status, 303, await res.text());
    assert.equal((await disputeOf(orderId))?.status, 'lost');
    assert.equal(await orderStatus(orderId), 'dispute_lost');
    const gw = (await (
      await sys.fetch(`${sys.urls.gateway}/v1/disputes/${disputeId}`, {
        headers: { authorization: `Bearer ${sys.apiKey}` },
      })
    ).json()) as { status: string };
    assert.equal(gw.status, 'lost');
    const trail = await sys.query<{ action: string }>(
      'shop',
      `select action from audit_log where subject = $1 order by seq`,
      [disputeId],
    );
    assert.deepEqual(
      trail.map((t) => t.action),
      ['dispute.opened', 'dispute.lose'],
    );
  });

  it('ledger verify is clean across the three databases after a won and a lost dispute (shop, gateway and bank agree)', async () => {
    const run = await countersign(['ledger', 'verify'], {
      GATEWAY_DATABASE_URL: sys.databaseUrls.gateway,
      BANK_DATABASE_URL: sys.databaseUrls.bank,
      SHOP_DATABASE_URL: sys.databaseUrls.shop,
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    // Both disputed orders were paid and captured: the order won back to paid and the lost one count alike.
    assert.match(run.stdout, /shop: 2 paid invoice\(s\) matched/);
    assert.match(run.stdout, /bank: checked \d+ account\(s\), \d+ transfer\(s\); 2 capture\(s\) matched/);
    assert.match(run.stdout, /OK: the books balance/);
  });
});
