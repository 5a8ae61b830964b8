// A payment's journey, end to end with the three real services: the customer pays (the cardholder
// approves, or declines, in the bank app), and staff's journey page shows the diagram built from the
// shop's, the gateway's and the bank's own records, in order. And the attacker's view: a customer gets
// no journey, merchant B's key gets 404 for the shop's session, the bank's journey answers only a
// valid, fresh gateway signature, and data other people chose cannot put markup into the diagram.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { logIn } from '../src/bank/testing.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { eventually, TEST_API_KEY } from '../src/gateway/testing.ts';
import { upsertMerchant } from '../src/gateway/storage/merchants.ts';
import { systemClock } from '../src/platform/clock.ts';
import { signedRequestHeaders } from '../src/platform/http/signed-request.ts';
import { startProofSystem, type ProofSystem } from './support/harness/in-process.ts';
import { stepsOfSvg } from './support/journey.ts';
import type { ShopClient } from './support/shop-client.ts';

const APPROVAL_CARD = '4000002500003155';
const B_KEY = `sk_test_journeyB${'x'.repeat(24)}`;

type Step = ReturnType<typeof stepsOfSvg>[number];
type Expect = { from: string; to: string; label: RegExp; verdict?: string };

/** Fails unless `expected` appear in `steps` in this order (others may come between). */
function assertInOrder(steps: readonly Step[], expected: readonly Expect[]): void {
  let at = 0;
  for (const e of expected) {
    const found = steps.findIndex(
      (s, i) =>
        i >= at &&
        s.from === e.from &&
        s.to === e.to &&
        e.label.test(s.label) &&
        (!e.verdict || s.verdict === e.verdict),
    );
    assert.ok(
      found >= 0,
      `expected ${e.from} → ${e.to} ${e.label} after step ${at}; the journey:\n${steps
        .map((s, i) => `${i}. ${s.from} → ${s.to} [${s.verdict}] ${s.label} (${s.party})`)
        .join('\n')}`,
    );
    at = found + 1;
  }
}

describe("a payment's journey across the browser, the shop, the gateway, the bank and the bank app", () => {
  let sys: ProofSystem;
  let customer: ShopClient;
  let staff: ShopClient;
  let holder: { cookie: string; csrf: string };

  before(async () => {
    sys = await startProofSystem();
    customer = await sys.login('customer');
    staff = await sys.login('staff');
    holder = await logIn(sys.bank.url, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
  });
  after(async () => {
    await sys?.stop();
  });

  /** The cardholder answers the approval request of `sessionId` in the bank app. */
  async function answer(sessionId: string, verb: 'approve' | 'decline'): Promise<void> {
    const found = await rows<{ id: string }>(
      sys.bankDb.db,
      sql`select r.id from approval_requests r join authorizations a on a.id = r.authorization_id where a.gateway_ref = ${sessionId}`,
    );
    const id = found[0]?.id;
    assert.ok(id, 'the bank pushed an approval request to the app');
    const res = await fetch(`${sys.bank.url}/app/approvals/${id}/${verb}`, {
      method: 'POST',
      headers: { cookie: holder.cookie, 'x-csrf-token': holder.csrf, accept: 'application/json' },
    });
    assert.equal(res.status, 200, `${verb} in the bank app`);
  }

  /** Staff's journey page once it says the payment has settled (it reloads itself until then). */
  async function settledJourney(orderId: string): Promise<{ html: string; steps: Step[] }> {
    return eventually(
      async () => {
        const res = await staff.send(`/staff/orders/${orderId}/journey`);
        assert.equal(res.status, 200);
        const html = await res.text();
        return res.headers.get('refresh') === null ? { html, steps: stepsOfSvg(html) } : undefined;
      },
      20_000,
      'the journey to settle',
    );
  }

  it('shows an approved payment from "Pay now" to the capture, each step from its own party, in order', async () => {
    const paid = await sys.payNow(customer);
    assert.equal((await sys.payCard(paid.sessionId, APPROVAL_CARD)).status, 200);
    // While the cardholder has not answered, the page is live: it asks to be reloaded.
    const live = await staff.send(`/staff/orders/${paid.orderId}/journey`);
    assert.equal(live.status, 200);
    assert.equal(live.headers.get('refresh'), '2', 'reloads every 2 s while under way');
    assert.match(await live.text(), /under way/);
    await answer(paid.sessionId, 'approve');
    await sys.settled(paid.sessionId, ['captured']);

    const { html, steps } = await settledJourney(paid.orderId);
    assertInOrder(steps, [
      { from: 'browser', to: 'shop', label: /Pay now/ },
      { from: 'shop', to: 'gateway', label: /^create session/ },
      { from: 'gateway', to: 'shop', label: /^session ps_\w+ created/ },
      { from: 'gateway', to: 'bank', label: /^authorise .* on card •••• 3155/ },
      { from: 'bank', to: 'bank_app', label: /^push: approve/ },
      { from: 'bank_app', to: 'bank', label: /approves/, verdict: 'ok' },
      { from: 'bank', to: 'gateway', label: /callback authorization.approved/ },
      { from: 'gateway', to: 'shop', label: /^webhook: payment authorized → accepted; answered 200/, verdict: 'ok' },
      { from: 'shop', to: 'gateway', label: /^200 to webhook payment\.authorized/, verdict: 'ok' },
      { from: 'gateway', to: 'gateway', label: /acknowledgement recorded/, verdict: 'ok' },
      { from: 'gateway', to: 'bank', label: /^capture/, verdict: 'ok' },
    ]);
    // The three parties' records are all there, and the page says the clocks are theirs.
    assert.deepEqual([...new Set(steps.map((s) => s.party))].sort(), ['bank', 'gateway', 'shop']);
    assert.ok(steps.some((s) => s.from === 'browser' && s.to === 'gateway' && /card .*3155 submitted/.test(s.label)));
    assert.match(html, /own clock/);
  });

  it("shows a payment the cardholder declines in the bank app as refused, and the shop's answer", async () => {
    const paid = await sys.payNow(customer);
    assert.equal((await sys.payCard(paid.sessionId, APPROVAL_CARD)).status, 200);
    await answer(paid.sessionId, 'decline');
    await sys.settled(paid.sessionId, ['declined']);
    const { steps } = await settledJourney(paid.orderId);
    assertInOrder(steps, [
      { from: 'browser', to: 'shop', label: /Pay now/ },
      { from: 'gateway', to: 'bank', label: /^authorise/ },
      { from: 'bank', to: 'bank_app', label: /^push/ },
      { from: 'bank_app', to: 'bank', label: /declines/, verdict: 'refused' },
      { from: 'gateway', to: 'gateway', label: /^declined/, verdict: 'refused' },
      { from: 'gateway', to: 'shop', label: /^webhook: payment declined → accepted/ },
    ]);
    assert.ok(!steps.some((s) => /capture/.test(s.label)), 'nothing captured');
  });

  it('gives a customer no journey, not even of their own order', async () => {
    const paid = await sys.payNow(customer);
    const res = await customer.send(`/staff/orders/${paid.orderId}/journey`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /<svg|Journey of/);
    const stranger = await sys.client().send(`/staff/orders/${paid.orderId}/journey`);
    assert.notEqual(stranger.status, 200);
    assert.doesNotMatch(await stranger.text(), /<svg/);
  });

  it("answers merchant B's key with 404 for the shop's session, and the shop's key with both parties' steps", async () => {
    await upsertMerchant(
      sys.gatewayDb.db,
      { name: 'Merchant B', webhookUrl: null, apiKey: B_KEY, webhookSecret: newWebhookSecret() },
      systemClock,
    );
    const paid = await sys.payNow(customer);
    assert.equal((await sys.payCard(paid.sessionId)).status, 200);
    const asB = await fetch(`${sys.gateway.url}/v1/payment_sessions/${paid.sessionId}/journey`, {
      headers: { authorization: `Bearer ${B_KEY}` },
    });
    assert.equal(asB.status, 404);
    assert.doesNotMatch(await asB.text(), new RegExp(paid.sessionId.slice(3)));
    const asA = await sys.gatewayApi(`/v1/payment_sessions/${paid.sessionId}/journey`);
    assert.equal(asA.status, 200);
    const body = (await asA.json()) as { bank: string; steps: { party: string; from: string; to: string }[] };
    assert.equal(body.bank, 'included');
    assert.ok(body.steps.some((s) => s.party === 'bank' && s.from === 'gateway' && s.to === 'bank'));
    assert.ok(body.steps.some((s) => s.party === 'gateway'));
    const anonymous = await fetch(`${sys.gateway.url}/v1/payment_sessions/${paid.sessionId}/journey`);
    assert.equal(anonymous.status, 401);
    // The same in the dashboard: B logged in sees no page of A's payment; A sees its diagram.
    const bPage = await dashboardPage(sys, `/dashboard/payments/${paid.sessionId}/journey`, B_KEY);
    assert.equal(bPage.status, 404);
    assert.doesNotMatch(bPage.html, /<svg/);
    const aPage = await dashboardPage(sys, `/dashboard/payments/${paid.sessionId}/journey`);
    assert.equal(aPage.status, 200);
    assert.ok(stepsOfSvg(aPage.html).some((s) => s.party === 'bank' && /^authorise/.test(s.label)));
  });

  it("answers the bank's journey only to a valid, fresh gateway signature", async () => {
    const paid = await sys.payNow(customer);
    assert.equal((await sys.payCard(paid.sessionId)).status, 200);
    const url = `${sys.bank.url}/api/v1/journey?gateway_ref=${paid.sessionId}`;
    const sign = (secret: string) =>
      signedRequestHeaders({ method: 'GET', url, body: '', secrets: [secret], clock: systemClock });

    const unsigned = await fetch(url);
    assert.equal(unsigned.status, 401);
    assert.doesNotMatch(await unsigned.text(), /authorise/);
    const forged = await fetch(url, { headers: { ...sign(newWebhookSecret()) } });
    assert.equal(forged.status, 401);
    assert.doesNotMatch(await forged.text(), /authorise/);

    const headers = { ...sign(sys.secrets.bankGatewayKey) };
    const genuine = await fetch(url, { headers });
    assert.equal(genuine.status, 200);
    const { steps } = (await genuine.json()) as { steps: { label: string; party: string }[] };
    assert.ok(steps.some((s) => s.party === 'bank' && /^authorise/.test(s.label)));
    const replayed = await fetch(url, { headers });
    assert.equal(replayed.status, 409, 'the same signed request twice is refused');
    assert.doesNotMatch(await replayed.text(), /authorise/);
    // Signed for this payment and sent for another: the signature covers the query.
    const other = `${sys.bank.url}/api/v1/journey?gateway_ref=ps_other`;
    const moved = await fetch(other, { headers: { ...sign(sys.secrets.bankGatewayKey) } });
    assert.equal(moved.status, 401, 'a request signed for one payment is refused for another');
  });

  it("escapes what a merchant chose (its reference) in the dashboard's diagram", async () => {
    const evil = '<script>x</script>"';
    const created = await sys.gatewayApi('/v1/payment_sessions', {
      body: { amount: { minor: '1200', currency: 'EUR' }, merchant_reference: evil, description: 'x' },
      headers: { 'idempotency-key': `journey-${Date.now()}` },
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    const journey = (await (await sys.gatewayApi(`/v1/payment_sessions/${id}/journey`)).json()) as {
      steps: { label: string }[];
    };
    assert.ok(
      journey.steps.some((s) => s.label.includes(evil)),
      'the API gives the label as data',
    );
    const page = await dashboardPage(sys, `/dashboard/payments/${id}/journey`);
    assert.equal(page.status, 200);
    const svg = page.html.slice(page.html.indexOf('<svg'), page.html.indexOf('</svg>'));
    assert.ok(svg.length > 0, 'the page holds the diagram');
    assert.ok(svg.includes('&#60;script&#62;x&#60;/script&#62;&#34;'), 'the reference is drawn as text');
    assert.doesNotMatch(page.html, /<script/);
    assert.deepEqual(
      stepsOfSvg(page.html)
        .map((s) => s.label)
        .filter((l) => l.includes(evil)).length,
      1,
      'the label reads back as the merchant wrote it',
    );
  });
});

/** A dashboard page as the merchant whose API key logs in. */
async function dashboardPage(
  sys: ProofSystem,
  path: string,
  key = TEST_API_KEY,
): Promise<{ status: number; html: string }> {
  const res = await fetch(`${sys.gateway.url}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: key }),
  });
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  assert.ok(cookie.includes('gw_session='), `dashboard login answered ${res.status}`);
  const page = await fetch(`${sys.gateway.url}${path}`, { headers: { cookie } });
  return { status: page.status, html: await page.text() };
}
