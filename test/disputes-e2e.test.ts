// Disputes across the real bank and the real gateway (both engines, real HTTP, real jobs and signed
// callbacks): a cardholder disputes a captured payment in the bank app; the gateway records it
// (needs_response), moves the amount to the merchant's dispute reserve and tells the merchant by a
// signed webhook (verified with standardwebhooks). Evidence with `winning_evidence` wins it (reserve
// back), `losing_evidence`, an acceptance or the deadline loses it (reserve to settlement); the
// cardholder's provisional credit follows; `ledger verify` is clean after each. Attackers: another
// cardholder, another merchant, a forged or replayed callback, evidence after close, oversize evidence.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { createTestCardholderIn } from './support/disputes-cardholders.ts';
import { verifyBooks } from '../src/cli/books-verify.ts';
import { verifyLedger } from '../src/gateway/storage/ledger-verify.ts';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { eventually } from '../src/gateway/testing.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { DashboardClient } from './support/dashboard-client.ts';
import { OTHER_NATIVE_KEY, startDisputeSystem, type DisputeSystem } from './support/disputes-system.ts';

const WINDOW_SECONDS = 8;

for (const engine of testEngines()) {
  describe(`disputes, bank app to gateway and back (${engine})`, () => {
    let t: DisputeSystem;

    before(async () => {
      t = await startDisputeSystem(engine, { windowSeconds: WINDOW_SECONDS });
    });
    after(async () => {
      await t?.stop();
    });

    const available = async (): Promise<bigint> => {
      const b = (await (await t.api('/v1/balance')).json()) as {
        data: { currency: string; available: { minor: string } }[];
      };
      return BigInt(b.data.find((x) => x.currency === 'EUR')?.available.minor ?? '0');
    };
    const reserve = async (): Promise<bigint> => {
      const [r] = await rows<{ held: string }>(
        t.gw.database.db,
        sql`select coalesce(sum(credits_posted - debits_posted), 0)::text as held from ledger_accounts where kind = 'dispute_reserve'`,
      );
      return BigInt(r!.held);
    };
    /** What one payment's disputes hold in reserve (its own transfers): other tests' disputes may close meanwhile. */
    const reserveOf = async (sessionId: string): Promise<bigint> => {
      const [r] = await rows<{ held: string }>(
        t.gw.database.db,
        sql`select coalesce(sum(case when c.kind = 'dispute_reserve' then t.amount_minor else 0 end)
                          - sum(case when d.kind = 'dispute_reserve' then t.amount_minor else 0 end), 0)::text as held
              from ledger_transfers t
              join ledger_accounts c on c.id = t.credit_account_id
              join ledger_accounts d on d.id = t.debit_account_id
             where t.session_id = ${sessionId} and t.phase in ('single', 'post')`,
      );
      return BigInt(r!.held);
    };
    const bankBalance = async (): Promise<bigint> => {
      const [r] = await rows<{ b: string }>(
        t.bank.database.db,
        sql`select a.balance_minor::text as b from accounts a join cardholders c on c.id = a.cardholder_id
            where c.email = 'demo@bank.test' order by a.created_at, a.id limit 1`,
      );
      return BigInt(r!.b);
    };
    const bankDispute = async (sessionId: string) => {
      const [r] = await rows<{ status: string; decided_by: string | null }>(
        t.bank.database.db,
        sql`select d.status, d.decided_by from disputes d join authorizations a on a.id = d.authorization_id
            where a.gateway_ref = ${sessionId}`,
      );
      return r;
    };
    const ledgerClean = async () => {
      const report = await verifyLedger(t.gw.database.db);
      assert.deepEqual(report.findings, [], 'ledger verify is clean');
      // The bank's books too: every chargeback and its reversal a transfer, the accounts agreeing with them.
      const books = await verifyBooks({ gateway: t.gw.database.db, bank: t.bank.database.db });
      assert.deepEqual(books.findings, [], 'the bank ledger and the gateway-bank match are clean');
      assert.ok(books.bank && books.bank.transfers > 0, 'the bank ledger was read');
    };
    const evidence = (id: string, body: unknown) => t.api(`/v1/disputes/${id}/evidence`, { body });

    it('a dispute opened in the bank app reaches the gateway: needs_response, the amount reserved, dispute.created signed for the merchant', async () => {
      const sessionId = await t.capturedNativePayment(2500);
      const before = { available: await available(), reserve: await reserve(), bank: await bankBalance() };
      const holder = await t.cardholder();
      const res = await t.dispute(holder, sessionId, 'product_not_received');
      assert.equal(res.status, 303);
      const d = await t.gatewayDispute(sessionId);
      assert.match(d.id, /^dp_/);
      assert.equal(d.status, 'needs_response');
      assert.equal(d.amount, 2500);
      assert.equal(d.currency, 'EUR');
      assert.equal(d.reason, 'product_not_received');
      assert.equal(d.payment_session, sessionId);
      assert.ok(Date.parse(d.evidence_due_by) > Date.parse(d.created));
      assert.equal(await available(), before.available - 2500n);
      assert.equal(await reserve(), before.reserve + 2500n);
      assert.equal(await bankBalance(), before.bank + 2500n, 'the cardholder is credited provisionally');
      const delivered = await eventually(() =>
        t.shop.received.find(
          (r) => JSON.parse(r.body.toString('utf8')).type === 'dispute.created' && r.body.includes(d.id),
        ),
      );
      const verified = new Webhook(t.webhookSecret).verify(delivered.body.toString('utf8'), {
        'webhook-id': String(delivered.headers['webhook-id']),
        'webhook-timestamp': String(delivered.headers['webhook-timestamp']),
        'webhook-signature': String(delivered.headers['webhook-signature']),
      }) as { type: string; data: { object: Record<string, unknown>; session_id: string } };
      assert.equal(verified.type, 'dispute.created');
      assert.deepEqual(verified.data.object, { ...d });
      assert.throws(() =>
        new Webhook(newWebhookSecret()).verify(delivered.body.toString('utf8'), {
          'webhook-id': String(delivered.headers['webhook-id']),
          'webhook-timestamp': String(delivered.headers['webhook-timestamp']),
          'webhook-signature': String(delivered.headers['webhook-signature']),
        }),
      );
      await ledgerClean();

      // While the dispute is open the merchant cannot refund as well: the cardholder would be paid twice.
      const refund = (minor: number) =>
        t.api('/v1/refunds', {
          body: { session_id: sessionId, amount: { minor: String(minor), currency: 'EUR' }, reason: 'goodwill' },
        });
      const refused = await refund(100);
      assert.equal(refused.status, 409);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'refund.charge_disputed');

      // Evidence with winning_evidence: under_review at once, then won by the bank; the reserve comes back.
      const sent = await evidence(d.id, {
        text: 'Delivered on 2 Dec; signed for. winning_evidence',
        files: [
          {
            name: 'receipt.txt',
            content_type: 'text/plain',
            content_base64: Buffer.from('receipt').toString('base64'),
          },
        ],
      });
      assert.equal(sent.status, 200);
      assert.equal(((await sent.json()) as { status: string }).status, 'under_review');
      await t.disputeIs(d.id, 'won');
      assert.equal(await available(), before.available);
      assert.equal(await reserve(), before.reserve);
      assert.equal((await bankDispute(sessionId))?.status, 'won');
      assert.equal(await bankBalance(), before.bank, 'the provisional credit is reversed');
      // Won: the money is the merchant's again, and it may refund it.
      assert.equal((await refund(100)).status, 201);
      assert.equal(await available(), before.available - 100n);
      const types = () =>
        t.shop.received
          .map((r) => JSON.parse(r.body.toString('utf8')))
          .filter((e) => e.data?.object?.id === d.id)
          .map((e) => `${e.type}:${e.data.object.status}`);
      await eventually(() => (types().includes('dispute.closed:won') ? true : undefined));
      assert.ok(types().includes('dispute.updated:under_review'), `events: ${types().join(', ')}`);
      await ledgerClean();

      // Closed: more evidence or an acceptance is refused.
      const late = await evidence(d.id, { text: 'more' });
      assert.equal(late.status, 409);
      assert.equal(((await late.json()) as { error: { code: string } }).error.code, 'dispute.not_open');
      assert.equal((await t.api(`/v1/disputes/${d.id}/accept`, { body: {} })).status, 409);
    });

    it('losing_evidence, an acceptance and a deadline without evidence each lose: the reserve goes to settlement and the credit stands', async () => {
      const holder = await t.cardholder();
      const [a, b, c] = [
        await t.capturedNativePayment(1100),
        await t.capturedNativePayment(1200),
        await t.capturedNativePayment(1300),
      ];
      const start = { available: await available(), bank: await bankBalance() };
      for (const s of [a, b, c]) assert.equal((await t.dispute(holder, s)).status, 303);
      const [da, db, dc] = [await t.gatewayDispute(a), await t.gatewayDispute(b), await t.gatewayDispute(c)];
      assert.equal(await available(), start.available - 3600n);

      assert.equal((await evidence(da.id, { text: 'Here it is: losing_evidence' })).status, 200);
      const accepted = await t.api(`/v1/disputes/${db.id}/accept`, { body: {} });
      assert.equal(accepted.status, 200);
      assert.equal(((await accepted.json()) as { status: string }).status, 'lost', 'an acceptance is lost at once');
      await t.disputeIs(da.id, 'lost');
      await t.disputeIs(dc.id, 'lost'); // the bank's deadline job, WINDOW_SECONDS later
      assert.equal((await bankDispute(a))?.decided_by, 'evidence');
      await eventually(async () => ((await bankDispute(b))?.status === 'lost' ? true : undefined));
      assert.equal((await bankDispute(b))?.decided_by, 'accepted');
      assert.equal((await bankDispute(c))?.decided_by, 'deadline');
      assert.equal(await available(), start.available - 3600n, 'lost money does not come back');
      assert.equal(await bankBalance(), start.bank + 3600n, 'the cardholder keeps the credits');
      const [lost] = await rows<{ n: number }>(
        t.gw.database.db,
        sql`select count(*)::int as n from ledger_transfers where kind = 'dispute_lost' and id in (${`dispute_lost_${da.id}`}, ${`dispute_lost_${db.id}`}, ${`dispute_lost_${dc.id}`})`,
      );
      assert.equal(lost!.n, 3);
      await ledgerClean();
    });

    it('a cardholder disputes only their own captured payment, once, for at most what is left; nobody else sees it', async () => {
      const sessionId = await t.capturedNativePayment(900);
      const stranger = await createTestCardholderIn(t.bankUrl, t.bank);
      const page = await fetch(`${t.bankUrl}/app/disputes`, { headers: { cookie: stranger.cookie } });
      const auth = (await t.sessionRow(sessionId)).bank_authorization_id;
      assert.equal(page.status, 200);
      assert.ok(!(await page.text()).includes(auth), "another cardholder's page does not list the payment");
      assert.equal(
        (await t.dispute(stranger, sessionId)).status,
        404,
        "another cardholder's dispute is refused as not found",
      );
      const holder = await t.cardholder();
      const noCsrf = await fetch(`${t.bankUrl}/app/disputes`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: holder.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ authorization_id: auth, reason: 'fraudulent' }),
      });
      assert.equal(noCsrf.status, 403);
      assert.equal((await t.dispute(holder, sessionId, 'fraudulent', '9.01')).status, 409, 'more than was captured');
      assert.equal((await t.dispute(holder, sessionId, 'not_a_reason')).status, 422);
      assert.equal((await t.dispute(holder, sessionId, 'duplicate', '4.00')).status, 303);
      assert.equal((await t.dispute(holder, sessionId, 'duplicate', '1.00')).status, 409, 'only once');
      const d = await t.gatewayDispute(sessionId);
      assert.equal(d.amount, 400);
      // Another merchant: the same 404 as a dispute that does not exist, in the native API.
      assert.equal((await t.api(`/v1/disputes/${d.id}`, { key: OTHER_NATIVE_KEY })).status, 404);
      assert.equal(
        (await t.api(`/v1/disputes/${d.id}/evidence`, { key: OTHER_NATIVE_KEY, body: { text: 'x' } })).status,
        404,
      );
      assert.equal((await t.api(`/v1/disputes/${d.id}/accept`, { key: OTHER_NATIVE_KEY, body: {} })).status, 404);
      const theirs = (await (await t.api('/v1/disputes', { key: OTHER_NATIVE_KEY })).json()) as { data: unknown[] };
      assert.deepEqual(theirs.data, []);
      // Oversize evidence: 400, and the dispute still needs a response.
      const big = await evidence(d.id, { text: 'x'.repeat(20_001) });
      assert.equal(big.status, 400);
      assert.equal(((await big.json()) as { error: { code: string } }).error.code, 'dispute.evidence_invalid');
      const sixFiles = Array.from({ length: 6 }, (_, i) => ({
        name: `f${i}.txt`,
        content_type: 'text/plain',
        content_base64: 'eA==',
      }));
      assert.equal((await evidence(d.id, { text: 'ok', files: sixFiles })).status, 400);
      assert.equal((await evidence(d.id, { text: '' })).status, 400, 'empty evidence');
      assert.equal((await t.disputeIs(d.id, 'needs_response')).status, 'needs_response');
      await ledgerClean();
    });

    it('a won dispute whose credit was spent takes back what the balance allows; the bank bears the rest, the books stay whole', async () => {
      const holder = await createTestCardholderIn(t.bankUrl, t.bank, { balanceMinor: 3000n });
      const accountId = holder.created.accountIds[0]!;
      const balance = async () => {
        const [r] = await rows<{ b: string }>(
          t.bank.database.db,
          sql`select balance_minor::text as b from accounts where id = ${accountId}`,
        );
        return BigInt(r!.b);
      };
      const sessionId = await t.capturedNativePayment(2500, holder.cardNumber);
      assert.equal((await t.dispute(holder, sessionId, 'product_not_received')).status, 303);
      const d = await t.gatewayDispute(sessionId);
      assert.equal(await balance(), 3000n, '500 left, and 2,500 credited provisionally');
      // The cardholder spends most of the credit before the dispute is decided.
      await t.capturedNativePayment(2800, holder.cardNumber);
      assert.equal(await balance(), 200n);
      assert.equal((await evidence(d.id, { text: 'Delivered and signed for. winning_evidence' })).status, 200);
      await t.disputeIs(d.id, 'won');
      assert.equal((await bankDispute(sessionId))?.status, 'won');
      assert.equal(await reserveOf(sessionId), 0n, "the merchant's reserve came back");
      assert.equal(await balance(), 0n, 'what was left is taken back; the account is not overdrawn');
      const transfers = await rows<{ kind: string; amount_minor: string }>(
        t.bank.database.db,
        sql`select kind, amount_minor::text as amount_minor from bank_ledger_transfers
             where ref = (select id from disputes where authorization_id =
                           (select id from authorizations where gateway_ref = ${sessionId}))
             order by kind`,
      );
      assert.deepEqual(
        transfers.map((x) => `${x.kind} ${x.amount_minor}`),
        ['chargeback 2500', 'chargeback_reversal 200', 'chargeback_writeoff 2300'],
      );
      await ledgerClean();
    });

    it('a forged, replayed or re-sent bank callback changes nothing', async () => {
      const sessionId = await t.capturedNativePayment(700);
      const holder = await t.cardholder();
      await t.dispute(holder, sessionId);
      const d = await t.gatewayDispute(sessionId);
      const [row] = await rows<{ bank_dispute_ref: string }>(
        t.gw.database.db,
        sql`select bank_dispute_ref from disputes where id = ${d.id}`,
      );
      const ref = row!.bank_dispute_ref;
      const before = await available();
      const close = { callback_id: `bcb_forged_${engine}`, type: 'dispute.closed', dispute_ref: ref, outcome: 'won' };
      const forged = await t.signedCallback(close, { secret: newWebhookSecret() }).send();
      assert.equal(forged.status, 401);
      const open = {
        callback_id: `bcb_forged_open_${engine}`,
        type: 'dispute.opened',
        dispute_ref: 'bdsp_forged',
        gateway_ref: sessionId,
        amount_minor: '700',
        currency: 'EUR',
        reason: 'fraudulent',
        evidence_due_by: new Date(Date.now() + 60_000).toISOString(),
      };
      assert.equal((await t.signedCallback(open, { secret: newWebhookSecret() }).send()).status, 401);
      assert.equal((await t.disputeIs(d.id, 'needs_response')).status, 'needs_response');
      assert.equal(await available(), before);

      // The bank's real closing callback, replayed as the very same signed request, and re-sent under
      // a new request id: the first is refused (request.replayed), the second a duplicate.
      assert.equal((await t.api(`/v1/disputes/${d.id}/evidence`, { body: { text: 'winning_evidence' } })).status, 200);
      await t.disputeIs(d.id, 'won');
      const [cb] = await rows<{ body: string }>(
        t.bank.database.db,
        sql`select body from gateway_callbacks where body like ${`%"dispute.closed"%${ref}%`}`,
      );
      const first = t.signedCallback(JSON.parse(cb!.body));
      const answer = await first.send();
      assert.equal(answer.status, 200);
      assert.equal(JSON.parse(answer.body).duplicate, true);
      assert.equal((await first.send()).status, 409, 'the same signed request twice is a replay');
      const flipped = {
        ...JSON.parse(cb!.body),
        callback_id: `${JSON.parse(cb!.body).callback_id}_x`,
        outcome: 'lost',
      };
      assert.equal((await t.signedCallback(flipped).send()).status, 200, 'a closed dispute ignores another verdict');
      assert.equal((await t.disputeIs(d.id, 'won')).status, 'won');
      assert.equal(await available(), before + 700n);
      await ledgerClean();
    });
    it('evidence accepted while the bank is unreachable is kept and forwarded once the bank is back', async () => {
      const sessionId = await t.capturedNativePayment(800);
      await t.dispute(await t.cardholder(), sessionId);
      const d = await t.gatewayDispute(sessionId);
      t.link.down = true;
      try {
        const sent = await evidence(d.id, { text: 'Tracking 1Z999. winning_evidence' });
        assert.equal(sent.status, 200, 'the merchant is answered at once');
        assert.equal(((await sent.json()) as { status: string }).status, 'under_review');
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal((await bankDispute(sessionId))?.status, 'open', 'the bank has not heard yet');
      } finally {
        t.link.down = false;
      }
      await t.disputeIs(d.id, 'won');
      assert.equal((await bankDispute(sessionId))?.decided_by, 'evidence');
      const [row] = await rows<{ forwarded: boolean }>(
        t.gw.database.db,
        sql`select forwarded_at is not null as forwarded from disputes where id = ${d.id}`,
      );
      assert.equal(row!.forwarded, true);
      await ledgerClean();
    });

    it("the dashboard lists the merchant's disputes and shows one with its transfers; another merchant's dashboard does not", async () => {
      const list = (await (await t.api('/v1/disputes?limit=100')).json()) as { data: { id: string; status: string }[] };
      assert.ok(list.data.length >= 5);
      const owner = new DashboardClient(t.gw.url);
      assert.equal((await owner.logIn('merchant@gateway.test', 'demo-merchant-password')).status, 303);
      const page = await owner.text('/dashboard/disputes');
      for (const d of list.data) assert.ok(page.includes(d.id), `${d.id} is listed`);
      const won = list.data.find((d) => d.status === 'won')!;
      const detail = await owner.text(`/dashboard/disputes/${won.id}`);
      assert.ok(detail.includes(`dispute_open_${won.id}`) && detail.includes(`dispute_won_${won.id}`));
      assert.ok(detail.includes('winning_evidence'));
      const stranger = new DashboardClient(t.gw.url);
      await stranger.signUp({
        email: `b-${engine}@shop-b.test`,
        password: 'another long password',
        business_name: 'Shop B',
      });
      assert.equal((await stranger.get(`/dashboard/disputes/${won.id}`)).status, 404);
      const theirs = await stranger.text('/dashboard/disputes');
      assert.ok(!theirs.includes(won.id));
    });

    it('an acceptance the bank cannot hear records nothing (502); a withdrawal racing it closes the dispute won at both ends', async () => {
      const sessionId = await t.capturedNativePayment(700);
      const holder = await t.cardholder();
      assert.equal((await t.dispute(holder, sessionId)).status, 303);
      const d = await t.gatewayDispute(sessionId);
      const before = { available: await available(), reserve: await reserveOf(sessionId) };
      const [bd] = await rows<{ id: string }>(
        t.bank.database.db,
        sql`select d.id from disputes d join authorizations a on a.id = d.authorization_id where a.gateway_ref = ${sessionId}`,
      );
      t.link.down = true;
      try {
        const accepted = await t.api(`/v1/disputes/${d.id}/accept`, { body: {} });
        assert.equal(accepted.status, 502, 'the bank decides an acceptance: unreachable, nothing is recorded');
        assert.equal(((await accepted.json()) as { error: { code: string } }).error.code, 'upstream.unavailable');
        assert.equal((await t.disputeIs(d.id, 'needs_response')).status, 'needs_response');
        assert.equal(await reserveOf(sessionId), before.reserve);
        // Meanwhile the cardholder withdraws the dispute in the bank app.
        const withdrawn = await fetch(`${t.bankUrl}/app/disputes/${bd!.id}/withdraw`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: holder.cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf: holder.csrf }),
        });
        assert.equal(withdrawn.status, 303);
      } finally {
        t.link.down = false;
      }
      await t.disputeIs(d.id, 'won');
      assert.equal((await bankDispute(sessionId))?.status, 'won');
      // The merchant's acceptance again, now the bank is back: the dispute is closed, won.
      const late = await t.api(`/v1/disputes/${d.id}/accept`, { body: {} });
      assert.equal(late.status, 409);
      assert.equal(((await late.json()) as { error: { code: string } }).error.code, 'dispute.not_open');
      assert.equal(before.reserve, 700n, 'the dispute reserved its amount');
      assert.equal(await reserveOf(sessionId), 0n, "the merchant's reserve is back");
      assert.equal(await available(), before.available + 700n);
      await ledgerClean();
    });

    it('ledger verify names a dispute whose transfers are missing', async () => {
      const [s] = await rows<{ id: string; merchant_id: string }>(
        t.gw.database.db,
        sql`select id, merchant_id from payment_sessions where status = 'captured' limit 1`,
      );
      const id = `dp_BROKEN${engine.toUpperCase()}`;
      await t.gw.database.db.execute(sql`insert into disputes (id, merchant_id, session_id, bank_dispute_ref, amount_minor, currency,
        reason, status, evidence_due_by, created_at, updated_at)
        values (${id}, ${s!.merchant_id}, ${s!.id}, ${`ref_${id}`}, 100, 'EUR', 'general', 'won', now(), now(), now())`);
      const found = (await verifyLedger(t.gw.database.db)).findings.filter((f) => f.subject === id).map((f) => f.check);
      assert.deepEqual(found.sort(), ['dispute_not_closed', 'dispute_not_reserved']);
      await t.gw.database.db.execute(sql`delete from disputes where id = ${id}`);

      // The bank's side: a won dispute with no chargeback, reversal or write-off.
      const [a] = await rows<{ id: string; cardholder_id: string }>(
        t.bank.database.db,
        sql`select a.id, acc.cardholder_id from authorizations a join accounts acc on acc.id = a.account_id
             where a.captured_minor > 0 and not exists (select 1 from disputes d where d.authorization_id = a.id) limit 1`,
      );
      const bankId = `bdsp_BROKEN${engine.toUpperCase()}`;
      await t.bank.database.db.execute(sql`insert into disputes (id, authorization_id, cardholder_id, amount_minor, currency,
        reason, status, evidence_due_by, created_at, updated_at)
        values (${bankId}, ${a!.id}, ${a!.cardholder_id}, 100, 'EUR', 'general', 'won', now(), now(), now())`);
      const books = await verifyBooks({ gateway: t.gw.database.db, bank: t.bank.database.db });
      assert.deepEqual(
        books.findings.filter((f) => f.subject === bankId).map((f) => f.check),
        ['chargeback_not_settled'],
      );
      await t.bank.database.db.execute(sql`delete from disputes where id = ${bankId}`);
      await ledgerClean();
    });
  });
}
