// Payouts against the real bank, on both engines: captured payments (less the gateway's fee) are paid
// from the merchant's available balance to its account at the bank by the payout run (the recurring
// job, and the dashboard's "pay out now"), shown on the API and the dashboard with the payments each
// covers; a payout the bank refuses is failed and reversed by a new transfer; another merchant sees
// none of it; the bank's payout endpoint pays a payout once, whoever replays it; `ledger verify` is clean.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { rows } from '../src/platform/db/database.ts';
import { systemClock } from '../src/platform/clock.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { cardOf, startTestBank, type TestBank } from '../src/bank/testing.ts';
import { bankLedgerAccount } from '../src/bank/storage/ledger.ts';
import { loadGatewayConfig } from '../src/gateway/main.ts';
import { writePayout } from '../src/gateway/commands/create-payouts.ts';
import { PAYOUTS_TASK } from '../src/gateway/jobs/task-names.ts';
import { verifyBooks } from '../src/cli/books-verify.ts';
import { verifyLedger } from '../src/gateway/storage/ledger-verify.ts';
import { DEMO_MERCHANT_ID } from '../src/gateway/storage/merchants.ts';
import { eventually, startTestGateway, TEST_STRIPE_API_KEY, webhookReceiver } from '../src/gateway/testing.ts';
import { DashboardClient } from './support/dashboard-client.ts';
import { cardDetails } from './support/factories.ts';
import { sessionHelpers } from './support/gateway-sessions.ts';
import { freePort } from './support/harness/wiring.ts';
import { stripeClient } from './support/stripe-gateway.ts';

type Payout = {
  id: string;
  status: string;
  amount: { minor: string; currency: string };
  failure_code: string | null;
  arrival_date: string | null;
  payments?: { payment_session: string; captured: { minor: string }; fee: { minor: string } }[];
};

describe('GATEWAY_PAYOUT_INTERVAL', () => {
  it('defaults to a day and takes seconds', () => {
    const env = { GATEWAY_BANK_KEY: newWebhookSecret(), GATEWAY_BANK_CALLBACK_SECRET: newWebhookSecret() };
    assert.equal(loadGatewayConfig(env).payoutIntervalSeconds, 86_400);
    assert.equal(loadGatewayConfig({ ...env, GATEWAY_PAYOUT_INTERVAL: '5' }).payoutIntervalSeconds, 5);
    assert.throws(() => loadGatewayConfig({ ...env, GATEWAY_PAYOUT_INTERVAL: '0' }), /GATEWAY_PAYOUT_INTERVAL/);
  });
});

for (const engine of testEngines()) {
  describe(`payouts (${engine})`, () => {
    let bank: TestBank;
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;
    const { pay } = sessionHelpers(() => gw, `payouts_${engine}`);
    // The bank's demo card: its own expiry and CVC.
    const approved = cardDetails(cardOf('approved'));
    const b = { key: '', id: '', dash: undefined as unknown as DashboardClient, sessions: [] as string[], paid: '' };

    before(async () => {
      shop = await webhookReceiver();
      const port = await freePort();
      const key = newWebhookSecret();
      const callbackSecret = newWebhookSecret();
      // The demo merchant's account at the bank is closed: its payouts are refused.
      bank = await startTestBank(engine, {
        gatewayKey: key,
        env: {
          BANK_GATEWAY_CALLBACK_URL: `http://127.0.0.1:${port}/bank/callbacks`,
          BANK_CALLBACK_SECRET: callbackSecret,
          BANK_PAYOUT_REFUSED_MERCHANTS: DEMO_MERCHANT_ID,
        },
      });
      gw = await startTestGateway(engine, {
        port,
        bank: { url: bank.url, key, callbackSecret },
        webhookUrl: shop.url,
        env: { GATEWAY_FEE_PER_CAPTURE: '25+140bps', GATEWAY_PAYOUT_INTERVAL: '3600' },
      });
      shop.setRespond((_r, res) => void res.writeHead(200).end('{}'));
      b.dash = new DashboardClient(gw.url);
      const signed = await b.dash.signUp({
        email: `payouts-${engine}@shop-b.test`,
        password: 'a long enough password',
        business_name: `Payout shop ${engine}`,
        webhook_url: shop.url,
      });
      b.key = signed.apiKey!;
      const [m] = await rows<{ id: string }>(
        gw.database.db,
        sql`select id from merchants where name = ${`Payout shop ${engine}`}`,
      );
      b.id = m!.id;
    });
    after(async () => {
      await gw?.stop();
      await bank?.close();
      await shop?.close();
    });

    const payAs = async (key: string | undefined, minor: string) => {
      const res = await gw.api('/v1/payment_sessions', {
        ...(key ? { key } : {}),
        body: { amount: { minor, currency: 'EUR' }, merchant_reference: `po-${minor}-${Date.now()}` },
      });
      assert.equal(res.status, 201);
      const id = ((await res.json()) as { id: string }).id;
      assert.equal((await pay(id, approved)).status < 300, true);
      await eventually(async () => {
        const s = (await (await gw.api(`/v1/payment_sessions/${id}`, key ? { key } : {})).json()) as { status: string };
        return s.status === 'captured' ? true : undefined;
      }, 15_000);
      return id;
    };
    const available = async (merchantId: string) => {
      const [a] = await rows<{ v: string }>(
        gw.database.db,
        sql`select credits_posted - debits_posted as v from ledger_accounts where id = ${`acct_${merchantId}_EUR_available`}`,
      );
      return BigInt(a?.v ?? '0');
    };
    const payouts = async (key?: string) =>
      ((await (await gw.api('/v1/payouts', key ? { key } : {})).json()) as { data: Payout[] }).data;

    it('the payout run pays the available balance to the bank, with the payments it covers', async () => {
      b.sessions = [await payAs(b.key, '2500'), await payAs(b.key, '700')];
      assert.equal(await available(b.id), 2440n + 665n);
      // The recurring run, made due now (its interval is an hour here).
      await gw.database.db.execute(sql`update jobs set run_at = now() where task = ${PAYOUTS_TASK}`);
      const [listed] = await eventually(async () => {
        const found = await payouts(b.key);
        return found.length === 1 && found[0]!.status === 'paid' ? found : undefined;
      });
      assert.deepEqual(listed!.amount, { minor: '3105', currency: 'EUR' });
      assert.ok(listed!.arrival_date);
      b.paid = listed!.id;
      const one = (await (await gw.api(`/v1/payouts/${b.paid}`, { key: b.key })).json()) as Payout;
      assert.deepEqual(
        one.payments!.map((p) => [p.payment_session, p.captured.minor, p.fee.minor]).sort(),
        [
          [b.sessions[0], '2500', '60'],
          [b.sessions[1], '700', '35'],
        ].sort(),
      );
      // The books: nothing left available, paid out = captured less fees; the bank credited the merchant.
      assert.equal(await available(b.id), 0n);
      const [paidOut] = await rows<{ v: string }>(
        gw.database.db,
        sql`select credits_posted - debits_posted as v from ledger_accounts where id = ${`acct_${b.id}_EUR_paid_out`}`,
      );
      assert.equal(paidOut!.v.toString(), '3105');
      const atBank = await bankLedgerAccount(bank.bank.database.db, `merchant:${b.id}:EUR`);
      assert.equal(atBank?.creditsPosted, 3105n);
      // The dashboard: the list, and the payout's page with its payments.
      const list = await b.dash.text('/dashboard/payouts');
      assert.match(list, new RegExp(`data-payout="${b.paid}"`));
      assert.match(list, /€31\.05/);
      const detail = await b.dash.text(`/dashboard/payouts/${b.paid}`);
      for (const s of b.sessions) assert.match(detail, new RegExp(`data-session="${s}"`));
      assert.deepEqual((await verifyLedger(gw.database.db)).findings, []);
      // Both ledgers with the payout in them, and the gateway's captures matched by the bank's debits.
      const books = await verifyBooks({ gateway: gw.database.db, bank: bank.bank.database.db });
      assert.deepEqual(books.findings, [], 'the bank books the payout as the gateway does');
    });

    it('"pay out now" on the dashboard pays what became available since, and nothing twice', async () => {
      const s = await payAs(b.key, '1000');
      const res = await b.dash.post('/dashboard/payouts/run', {}, { csrf: true });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /1 payout\(s\) started/);
      const [newest] = await payouts(b.key);
      assert.equal(newest!.status, 'paid');
      // 10.00 less 0.25 + 0.14 = 9.61
      assert.equal(newest!.amount.minor, '961');
      const one = (await (await gw.api(`/v1/payouts/${newest!.id}`, { key: b.key })).json()) as Payout;
      assert.deepEqual(
        one.payments!.map((p) => p.payment_session),
        [s],
      );
      const again = await b.dash.post('/dashboard/payouts/run', {}, { csrf: true });
      assert.match(await again.text(), /Nothing is available to pay out/);
      assert.equal((await payouts(b.key)).length, 2);
      assert.equal(
        (await bankLedgerAccount(bank.bank.database.db, `merchant:${b.id}:EUR`))?.creditsPosted,
        3105n + 961n,
      );
      // Without the CSRF token, nothing runs.
      assert.equal((await b.dash.post('/dashboard/payouts/run', {})).status, 403);
    });

    it('a payout written but never sent (the process died after its commit) is sent by its job, and paid once', async () => {
      await payAs(b.key, '2000');
      // The payout's transaction alone, as if the process died before asking the bank.
      const written = await writePayout(
        { database: gw.database, clock: systemClock, issuer: undefined as never },
        b.id,
        'EUR',
      );
      assert.equal(written!.status, 'pending');
      assert.equal(await available(b.id), 0n);
      const credited = async () =>
        (await bankLedgerAccount(bank.bank.database.db, `merchant:${b.id}:EUR`))!.creditsPosted;
      const before = await credited();
      // Its safety-net job, made due now, asks the bank; then the next run finds nothing more to send.
      await gw.database.db.execute(sql`update jobs set run_at = now() where key = ${`payout:${written!.id}`}`);
      await eventually(async () => {
        const p = (await (await gw.api(`/v1/payouts/${written!.id}`, { key: b.key })).json()) as Payout;
        return p.status === 'paid' ? p : undefined;
      });
      assert.equal(await credited(), before + written!.amountMinor);
      await gw.database.db.execute(sql`update jobs set run_at = now() where task = ${PAYOUTS_TASK}`);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await credited(), before + written!.amountMinor);
      assert.deepEqual((await verifyLedger(gw.database.db)).findings, []);
    });

    it('a payout the bank refuses is failed, and its amount comes back to available by a new transfer', async () => {
      await payAs(undefined, '2500');
      const before = await available(DEMO_MERCHANT_ID);
      assert.ok(before > 0n);
      const a = new DashboardClient(gw.url);
      assert.equal((await a.logIn('merchant@gateway.test', 'demo-merchant-password')).status, 303);
      const res = await a.post('/dashboard/payouts/run', {}, { csrf: true });
      assert.equal(res.status, 200);
      const [failed] = await payouts();
      assert.equal(failed!.status, 'failed');
      assert.equal(failed!.failure_code, 'payout.refused');
      assert.equal(failed!.amount.minor, before.toString());
      assert.equal(failed!.arrival_date, null);
      assert.equal(await available(DEMO_MERCHANT_ID), before);
      const transfers = await rows<{ id: string; kind: string }>(
        gw.database.db,
        sql`select id, kind from ledger_transfers where id like ${`%${failed!.id}`} order by id`,
      );
      assert.deepEqual(
        transfers.map((t) => t.kind),
        ['payout', 'payout_reversal'],
      );
      assert.equal(await bankLedgerAccount(bank.bank.database.db, `merchant:${DEMO_MERCHANT_ID}:EUR`), undefined);
      assert.match(await a.text(`/dashboard/payouts/${failed!.id}`), /refused by the bank: payout\.refused/);
      // The same payout in Stripe's API (the merchant's Stripe-dialect key), through stripe-node.
      const stripe = stripeClient(gw.url, TEST_STRIPE_API_KEY);
      const listed = await stripe.payouts.list({ limit: 5 });
      const seen = listed.data.find((p) => p.id === failed!.id)!;
      assert.equal(seen.object, 'payout');
      assert.equal(seen.status, 'failed');
      assert.equal(seen.amount, Number(before));
      assert.equal(seen.currency, 'eur');
      assert.equal(seen.failure_code, 'declined');
      assert.equal((await stripe.payouts.retrieve(failed!.id)).id, failed!.id);
      assert.deepEqual((await verifyLedger(gw.database.db)).findings, []);
    });

    it('another merchant and a stranger see or start nothing of it', async () => {
      // The demo merchant (A) asks for B's payout: not found, on the API and the dashboard.
      assert.equal((await gw.api(`/v1/payouts/${b.paid}`)).status, 404);
      assert.ok(!(await payouts()).some((p) => p.id === b.paid));
      const a = new DashboardClient(gw.url);
      await a.logIn('merchant@gateway.test', 'demo-merchant-password');
      assert.equal((await a.get(`/dashboard/payouts/${b.paid}`)).status, 404);
      assert.doesNotMatch(await a.text('/dashboard/payouts'), new RegExp(b.paid));
      const stripe = stripeClient(gw.url, TEST_STRIPE_API_KEY);
      await assert.rejects(stripe.payouts.retrieve(b.paid), (err: { statusCode?: number }) => err.statusCode === 404);
      assert.ok(!(await stripe.payouts.list({ limit: 100 })).data.some((p) => p.id === b.paid));
      // No key, a wrong key, no login.
      assert.equal((await fetch(`${gw.url}/v1/payouts`)).status, 401);
      assert.equal((await gw.api('/v1/payouts', { key: 'sk_test_not_a_key_at_all_0000' })).status, 401);
      assert.equal((await new DashboardClient(gw.url).get('/dashboard/payouts')).status, 303);
      // A's "pay out now" pays nothing of B's.
      const bBefore = await available(b.id);
      await payAs(b.key, '500');
      await a.post('/dashboard/payouts/run', {}, { csrf: true });
      assert.equal(await available(b.id), bBefore + 500n - 25n - 7n);
    });

    it("the bank's payout endpoint pays once: a retry pays nothing more, a replay and a forgery are refused", async () => {
      const body = { payout_id: b.paid, merchant_id: b.id, amount_minor: '3105', currency: 'EUR' };
      const credited = async () =>
        (await bankLedgerAccount(bank.bank.database.db, `merchant:${b.id}:EUR`))!.creditsPosted;
      const before = await credited();
      // The gateway asking again (a new signed request for the same payout): answered, nothing paid twice.
      const retry = await bank.gateway('POST', '/api/v1/payouts', body, { id: 'sreq_payout_retry' });
      assert.equal(retry.status, 200);
      assert.equal(retry.body.status, 'paid');
      // The same signed request replayed: refused.
      const replay = await bank.gateway('POST', '/api/v1/payouts', body, { id: 'sreq_payout_retry' });
      assert.equal(replay.status, 409);
      assert.equal(replay.body.error.code, 'request.replayed');
      // The same payout id with another amount: refused, nothing written.
      const other = await bank.gateway('POST', '/api/v1/payouts', { ...body, amount_minor: '999999' });
      assert.equal(other.status, 409);
      assert.equal(other.body.error.code, 'ledger.transfer_exists');
      // Signed with another key, or not signed at all: refused.
      const forged = await bank.gateway(
        'POST',
        '/api/v1/payouts',
        { ...body, payout_id: 'po_7ZZZZZZZZZZZZZZZZZZZZZZZZZ' },
        {
          key: newWebhookSecret(),
        },
      );
      assert.equal(forged.status, 401);
      const unsigned = await fetch(`${bank.url}/api/v1/payouts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, payout_id: 'po_7ZZZZZZZZZZZZZZZZZZZZZZZZY' }),
      });
      assert.equal(unsigned.status, 401);
      assert.equal(await credited(), before);
    });

    it('the bank refuses a new payout above what it holds for the gateway, and pays one up to it', async () => {
      const held = async () => {
        const [r] = await rows<{ v: string }>(
          bank.bank.database.db,
          sql`select coalesce(sum(credits_posted - debits_posted), 0)::text as v from bank_ledger_accounts where kind = 'settlement' and currency = 'EUR'`,
        );
        return BigInt(r!.v);
      };
      const credited = async () =>
        (await bankLedgerAccount(bank.bank.database.db, `merchant:${b.id}:EUR`))!.creditsPosted;
      const position = await held();
      assert.ok(position > 0n, 'captured payments are held for the gateway');
      const before = await credited();
      const payout = (id: string, minor: bigint) =>
        bank.gateway('POST', '/api/v1/payouts', {
          payout_id: id,
          merchant_id: b.id,
          amount_minor: minor.toString(),
          currency: 'EUR',
        });
      const above = await payout('po_7ZZZZZZZZZZZZZZZZZZZZZZZZA', position + 1n);
      assert.equal(above.status, 422);
      assert.equal(above.body.error.code, 'payout.refused');
      assert.deepEqual(above.body.error.details, { reason: 'exceeds_settlement' });
      assert.equal(await credited(), before, 'nothing paid');
      assert.equal(await held(), position);
      const upTo = await payout('po_7ZZZZZZZZZZZZZZZZZZZZZZZZB', position);
      assert.equal(upTo.status, 201);
      assert.equal(await credited(), before + position);
      assert.equal(await held(), 0n);
      // Asked again once nothing is left: a retry of a payout already made, answered as paid.
      assert.equal((await payout('po_7ZZZZZZZZZZZZZZZZZZZZZZZZB', position)).status, 200);
    });
  });
}
