// The gateway's double-entry ledger on both engines, driven over HTTP like the other gateway tests (a
// fake issuer, a real webhook receiver): each step of a payment writes its transfers in the step's own
// transaction — capture posted once with one fee, void and the acknowledgement's lapse voided, a
// refund moved back — replays and races post nothing twice, `GET /v1/balance` and the dashboard's
// Balance card show each merchant its own money only, and `ledger verify` (the operator's command,
// run as a process on PostgreSQL) is clean after a mixed run and names deliberately corrupted rows.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { isDomainError } from '../src/core/errors.ts';
import { CURRENCIES } from '../src/core/money.ts';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { enqueue } from '../src/platform/jobs/enqueue.ts';
import { systemClock } from '../src/platform/clock.ts';
import {
  authorizationTransfers,
  captureTransfers,
  NO_FEE,
  voidTransfers,
} from '../src/gateway/domain/ledger.payment.ts';
import { SETTLE_TASK } from '../src/gateway/jobs/task-names.ts';
import { postTransfers, sessionTransfers } from '../src/gateway/storage/ledger.ts';
import { verifyLedger } from '../src/gateway/storage/ledger-verify.ts';
import { DEMO_MERCHANT_ID } from '../src/gateway/storage/merchants.ts';
import { eventually, startTestGateway, TEST_STRIPE_API_KEY, webhookReceiver } from '../src/gateway/testing.ts';
import { countersign } from './support/cli.ts';
import { DashboardClient } from './support/dashboard-client.ts';
import { sessionHelpers } from './support/gateway-sessions.ts';
import { tempDir } from './support/temp-dir.ts';

type Balance = {
  currency: string;
  pending: { minor: string };
  available: { minor: string };
  fees: { minor: string };
  refunded: { minor: string };
};

for (const engine of testEngines()) {
  describe(`gateway ledger (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;
    const { newSession, pay, settled } = sessionHelpers(() => gw, `ledger_${engine}`);

    before(async () => {
      shop = await webhookReceiver();
      // 25 minor units + 1.40 %: on 25.00 EUR, 0.25 + 0.35 = 0.60.
      gw = await startTestGateway(engine, { webhookUrl: shop.url, env: { GATEWAY_FEE_PER_CAPTURE: '25+140bps' } });
    });
    after(async () => {
      await gw?.stop();
      await shop?.close();
    });
    beforeEach(async () => {
      shop.setRespond((_r, res) => void res.writeHead(200).end('{}'));
      await gw.database.db.execute(sql`update merchants set ack_window_seconds = 900`);
    });

    const transfers = async (id: string) =>
      (await sessionTransfers(gw.database.db, id)).map((t) => `${t.phase}:${t.kind}:${t.amountMinor}`).sort();
    const balance = async (key?: string) => {
      const res = await gw.api('/v1/balance', key ? { key } : {});
      assert.equal(res.status, 200);
      return ((await res.json()) as { data: Balance[] }).data;
    };
    const eur = async (key?: string) => (await balance(key)).find((b) => b.currency === 'EUR');

    it('a capture reserves at authorisation, then posts once and takes the fee once', async () => {
      const before = await eur();
      const id = await newSession();
      await pay(id);
      assert.equal((await settled(id)).status, 'captured');
      assert.deepEqual(await transfers(id), [
        'pending:authorization:2500',
        'post:capture:2500',
        'single:fee:60',
        'single:release:2500',
      ]);
      const after = (await eur())!;
      assert.equal(BigInt(after.available.minor) - BigInt(before?.available.minor ?? '0'), 2440n);
      assert.equal(BigInt(after.fees.minor) - BigInt(before?.fees.minor ?? '0'), 60n);
      assert.equal(after.pending.minor, '0');
    });

    it('a replayed capture (the settle job again, the webhook re-sent, the acknowledgement repeated) posts nothing more', async () => {
      const id = await newSession();
      await pay(id);
      await settled(id);
      const once = await transfers(id);
      const [delivery] = await rows<{ id: string }>(
        gw.database.db,
        sql`select d.id from webhook_deliveries d join events e on e.id = d.event_id where e.session_id = ${id} and e.type = 'payment.authorized'`,
      );
      const resent = await gw.api(`/v1/webhook_deliveries/${delivery!.id}/resend`, { method: 'POST', body: {} });
      assert.equal(resent.status, 202);
      await gw.api(`/v1/payment_sessions/${id}/acknowledge`, { method: 'POST', body: {} });
      await enqueue(
        gw.database.db,
        { task: SETTLE_TASK, payload: { sessionId: id }, key: `settle:${id}:replay` },
        systemClock,
      );
      await eventually(async () => {
        const [j] = await rows<{ status: string }>(
          gw.database.db,
          sql`select status from jobs where key = ${`settle:${id}:replay`}`,
        );
        return j?.status === 'succeeded' ? true : undefined;
      });
      await eventually(() =>
        shop.received.filter((r) => r.headers['webhook-id'] === shop.eventsFor(id)[0]?.id).length >= 2
          ? true
          : undefined,
      );
      assert.deepEqual(await transfers(id), once);
    });

    it('concurrent capture attempts post exactly once', async () => {
      shop.setRespond((_r, res) => void res.writeHead(500).end('not now'));
      const id = await newSession();
      await pay(id);
      const answers = await Promise.all([
        ...Array.from({ length: 4 }, () =>
          gw.api(`/v1/payment_sessions/${id}/acknowledge`, { method: 'POST', body: {} }),
        ),
        ...Array.from({ length: 4 }, (_, i) =>
          enqueue(
            gw.database.db,
            { task: SETTLE_TASK, payload: { sessionId: id }, key: `settle:${id}:race${i}` },
            systemClock,
          ),
        ),
      ]);
      assert.ok(answers.some((a) => a instanceof Response && a.status === 200));
      assert.equal((await settled(id)).status, 'captured');
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(await transfers(id), [
        'pending:authorization:2500',
        'post:capture:2500',
        'single:fee:60',
        'single:release:2500',
      ]);
    });

    it('two transactions resolving one pending transfer: one wins, the other is refused', async () => {
      const s = { id: `ps_race_${engine}`, merchantId: DEMO_MERCHANT_ID, amountMinor: 900n, currency: 'SEK' };
      await gw.database.transaction((tx) => postTransfers(tx, authorizationTransfers(s), new Date()));
      const results = await Promise.allSettled([
        gw.database.transaction((tx) => postTransfers(tx, captureTransfers(s, 900n, NO_FEE), new Date())),
        gw.database.transaction((tx) => postTransfers(tx, voidTransfers(s), new Date())),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      const code =
        (refused.reason as { code?: string; cause?: { code?: string } }).cause?.code ??
        (refused.reason as { code?: string }).code;
      assert.ok(isDomainError(refused.reason, 'ledger.pending_resolved') || code === '23505', String(refused.reason));
      const resolutions = (await sessionTransfers(gw.database.db, s.id)).filter((t) => t.pendingId !== null);
      assert.equal(resolutions.length, 1);
      // Immutable in the database too: neither edited nor deleted.
      await assert.rejects(
        gw.database.db.execute(sql`update ledger_transfers set amount_minor = 1 where id = ${`auth_${s.id}`}`),
      );
      await assert.rejects(gw.database.db.execute(sql`delete from ledger_transfers where id = ${`auth_${s.id}`}`));
    });

    it('a batch recorded as unrecorded posts without the lookup; recorded all the same, it is refused and moves nothing', async () => {
      const s = { id: `ps_unrec_${engine}`, merchantId: DEMO_MERCHANT_ID, amountMinor: 700n, currency: 'SEK' };
      const pendingSek = async () =>
        (
          await rows<{ credits: string }>(
            gw.database.db,
            sql`select credits_pending::text as credits from ledger_accounts where id = ${`acct_${DEMO_MERCHANT_ID}_SEK_pending`}`,
          )
        )[0]?.credits ?? '0';
      const before = BigInt(await pendingSek());
      const written = await gw.database.transaction((tx) =>
        postTransfers(tx, authorizationTransfers(s), new Date(), { unrecorded: true }),
      );
      assert.deepEqual(written, [`auth_${s.id}`]);
      assert.equal(BigInt(await pendingSek()), before + 700n);
      // Without the option a repeat is a no-op; with it, the primary key refuses the copy and the
      // whole transaction rolls back: no second row, no amount moved twice.
      assert.deepEqual(
        await gw.database.transaction((tx) => postTransfers(tx, authorizationTransfers(s), new Date())),
        [],
      );
      await assert.rejects(
        gw.database.transaction((tx) => postTransfers(tx, authorizationTransfers(s), new Date(), { unrecorded: true })),
      );
      assert.deepEqual(await transfers(s.id), ['pending:authorization:700']);
      assert.equal(BigInt(await pendingSek()), before + 700n);
      // A batch that resolves a pending transfer is always read: the option changes nothing for it.
      await gw.database.transaction((tx) => postTransfers(tx, voidTransfers(s), new Date(), { unrecorded: true }));
      assert.equal(BigInt(await pendingSek()), before);
      assert.deepEqual(await transfers(s.id), ['pending:authorization:700', 'void:void:700']);
    });

    it('an unrecorded batch on accounts that exist moves every total by its delta; one a flag forbids is ledger.limit_exceeded and moves nothing', async () => {
      const s = { id: `ps_unread_${engine}`, merchantId: DEMO_MERCHANT_ID, amountMinor: 900n, currency: 'SEK' };
      const account = (kind: string) => `acct_${DEMO_MERCHANT_ID}_SEK_${kind}`;
      const totals = async () =>
        rows<{ id: string; dpend: string; dpost: string; cpend: string; cpost: string }>(
          gw.database.db,
          sql`select id, debits_pending::text as dpend, debits_posted::text as dpost, credits_pending::text as cpend,
                     credits_posted::text as cpost
                from ledger_accounts where id in (${account('settlement')}, ${account('pending')})
               order by id`,
        );
      // The accounts exist (the first batch opens them if this runs alone).
      await gw.database.transaction((tx) =>
        postTransfers(tx, authorizationTransfers({ ...s, id: `${s.id}_open` }), new Date()),
      );
      const before = await totals();
      await gw.database.transaction((tx) =>
        postTransfers(tx, authorizationTransfers(s), new Date(), { unrecorded: true }),
      );
      const moved = (id: string, field: 'dpend' | 'cpend', by: bigint) =>
        before.map((r) => (r.id === id ? { ...r, [field]: String(BigInt(r[field]) + by) } : r));
      const expected = moved(account('settlement'), 'dpend', 900n).map((r) =>
        r.id === account('pending') ? { ...r, cpend: String(BigInt(r.cpend) + 900n) } : r,
      );
      assert.deepEqual(await totals(), expected);

      // pending must not be debited past what was posted to it: a single transfer out of it that is
      // far larger is refused, in a batch with a good one, and neither moves anything.
      const overdraw = {
        ...authorizationTransfers({ ...s, id: `${s.id}_over` })[0]!,
        id: `over_${s.id}`,
        debitAccountId: account('pending'),
        creditAccountId: account('settlement'),
        amount: 10n ** 12n,
        kind: 'capture' as const,
        phase: 'single' as const,
      };
      const good = authorizationTransfers({ ...s, id: `${s.id}_good` })[0]!;
      await assert.rejects(
        gw.database.transaction((tx) => postTransfers(tx, [good, overdraw], new Date(), { unrecorded: true })),
        (e) => isDomainError(e, 'ledger.limit_exceeded'),
      );
      assert.deepEqual(await totals(), expected);
      assert.deepEqual(await transfers(`${s.id}_good`), []);
    });

    it('authorisations racing to open the same new accounts all post, and the accounts add up', async () => {
      // Currencies nobody has used: in each, eight transfers create (or find just created) the same two
      // accounts and lock them (or, unrecorded, move them in one statement once they exist); none may
      // fail, deadlock or lose another's amount. The window in which two of them both find no account
      // is narrow, so the race runs in every currency the other tests leave unused.
      const currencies = CURRENCIES.filter((c) => !['EUR', 'SEK'].includes(c));
      const failures: string[] = [];
      for (const currency of currencies) {
        const sessions = Array.from({ length: 8 }, (_, i) => ({
          id: `ps_newacct_${engine}_${currency}_${i}`,
          merchantId: DEMO_MERCHANT_ID,
          amountMinor: BigInt(100 + i),
          currency,
        }));
        const results = await Promise.allSettled(
          // Half as the authorisation writes them (unrecorded: one statement once the accounts exist).
          sessions.map((s, i) =>
            gw.database.transaction((tx) =>
              postTransfers(tx, authorizationTransfers(s), new Date(), { unrecorded: i % 2 === 0 }),
            ),
          ),
        );
        // The database's own error (drizzle's wraps it as `cause`) says why a transfer failed.
        for (const r of results)
          if (r.status === 'rejected') failures.push(`${currency}: ${String(r.reason)} — ${String(r.reason?.cause)}`);
        const [pending] = await rows<{ n: string; credits: string }>(
          gw.database.db,
          sql`select count(*)::text as n, sum(credits_pending)::text as credits from ledger_accounts
               where currency = ${currency} and credits_pending > 0`,
        );
        if (!failures.length)
          assert.deepEqual(pending, { n: '1', credits: String(sessions.reduce((a, s) => a + s.amountMinor, 0n)) });
      }
      assert.deepEqual(failures, []);
      // One account per merchant, currency and kind rests on the id being made of the three.
      await assert.rejects(
        gw.database.db.execute(sql`insert into ledger_accounts (id, merchant_id, currency, kind,
          debits_must_not_exceed_credits, credits_must_not_exceed_debits, created_at)
          values ('acct_other', ${DEMO_MERCHANT_ID}, 'NZD', 'pending', true, false, now())`),
      );
    });

    it('a refused authorisation is voided in the books', async () => {
      shop.setRespond((_r, res) => void res.writeHead(409).end('{"error":{"code":"invoice.expired"}}'));
      const id = await newSession();
      await pay(id);
      assert.equal((await settled(id)).status, 'voided');
      assert.deepEqual(await transfers(id), ['pending:authorization:2500', 'void:void:2500']);
    });

    it('an authorisation nobody acknowledges in time (its expiry) is voided in the books', async () => {
      await gw.database.db.execute(sql`update merchants set ack_window_seconds = 1`);
      shop.setRespond((_r, res) => void res.writeHead(500).end());
      const id = await newSession();
      await pay(id);
      const s = await settled(id);
      assert.equal(s.status, 'voided');
      assert.equal(s.void_reason, 'acknowledgement_timeout');
      assert.deepEqual(await transfers(id), ['pending:authorization:2500', 'void:void:2500']);
    });

    it('a refund moves money from available back through the card network', async () => {
      const id = await newSession();
      await pay(id);
      await settled(id);
      const before = (await eur())!;
      const res = await gw.api('/v1/refunds', { body: { session_id: id, amount: { minor: '1000', currency: 'EUR' } } });
      assert.equal(res.status, 201);
      const refundId = ((await res.json()) as { id: string }).id;
      await eventually(async () => ((await transfers(id)).includes('single:refund_paid:1000') ? true : undefined));
      const after = (await eur())!;
      assert.equal(BigInt(before.available.minor) - BigInt(after.available.minor), 1000n);
      assert.equal(BigInt(after.refunded.minor) - BigInt(before.refunded.minor), 1000n);
      const ids = (await sessionTransfers(gw.database.db, id)).map((t) => t.id);
      assert.ok(ids.includes(`refund_${refundId}`) && ids.includes(`refund_paid_${refundId}`));
    });

    it('each merchant sees its own balance only, on the API and on the dashboard', async () => {
      const b = new DashboardClient(gw.url);
      const signed = await b.signUp({
        email: `books-${engine}@shop-b.test`,
        password: 'a long enough password',
        business_name: 'Shop B',
        webhook_url: shop.url,
      });
      const keyB = signed.apiKey!;
      assert.deepEqual(await balance(keyB), [], 'a new merchant starts with nothing');
      const res = await gw.api('/v1/payment_sessions', {
        key: keyB,
        body: { amount: { minor: '700', currency: 'EUR' }, merchant_reference: 'b-1' },
      });
      const idB = ((await res.json()) as { id: string }).id;
      const aBefore = await eur();
      await pay(idB);
      await eventually(async () => {
        const r = (await (await gw.api(`/v1/payment_sessions/${idB}`, { key: keyB })).json()) as { status: string };
        return r.status === 'captured' ? true : undefined;
      });
      // 0.25 + 1.40 % of 7.00 (9.8 → 10) = 0.35
      assert.deepEqual(await balance(keyB), [
        {
          currency: 'EUR',
          pending: { minor: '0', currency: 'EUR' },
          available: { minor: '665', currency: 'EUR' },
          fees: { minor: '35', currency: 'EUR' },
          refunded: { minor: '0', currency: 'EUR' },
        },
      ]);
      assert.deepEqual(await eur(), aBefore, "B's payment changes nothing in A's balance");
      assert.equal((await fetch(`${gw.url}/v1/balance`)).status, 401);
      // The Stripe-dialect key of the same merchant (A) gets A's balance as Stripe's Balance object, never B's.
      const asStripe = await gw.api('/v1/balance', { key: TEST_STRIPE_API_KEY });
      assert.equal(asStripe.status, 200);
      const stripeBalance = (await asStripe.json()) as {
        object: string;
        available: { amount: number; currency: string }[];
      };
      assert.equal(stripeBalance.object, 'balance');
      assert.deepEqual(
        stripeBalance.available.find((f) => f.currency === 'eur')?.amount,
        Number(aBefore?.available.minor),
      );
      const pageB = await b.text('/dashboard');
      assert.match(pageB, /<h2>Balance<\/h2>/);
      assert.match(pageB, /data-balance="available">€6\.65</);
      const a = new DashboardClient(gw.url);
      assert.equal((await a.logIn('merchant@gateway.test', 'demo-merchant-password')).status, 303);
      const pageA = await a.text('/dashboard');
      assert.doesNotMatch(pageA, /data-balance="available">€6\.65</);
      // A row per currency A holds (the racing test above opened many): its euro row shows its own.
      const shown = [...pageA.matchAll(/data-balance="available">([^<]+)</g)].map((m) => m[1]);
      assert.ok(shown.includes(`€${(Number((await eur())!.available.minor) / 100).toFixed(2)}`), shown.join(', '));
    });

    it('ledger verify is clean after the mixed run, and names an unbalanced account and a transfer that moved no balance', async () => {
      await eventually(async () => {
        const [open] = await rows<{ n: number }>(
          gw.database.db,
          sql`select count(*)::int as n from payment_sessions where status in ('processing', 'authorized')`,
        );
        return open!.n === 0 ? true : undefined;
      });
      const clean = await verifyLedger(gw.database.db);
      assert.deepEqual(clean.findings, []);
      assert.ok(clean.transfers >= 20 && clean.accounts >= 6, JSON.stringify(clean));
      const url = engine === 'postgres' ? (gw.database.raw as pg.Pool).options.connectionString! : null;
      if (!url) {
        // Pointed at a directory without a gateway database, it cannot check (exit 3) and creates nothing.
        const empty = tempDir('cs-ledger-');
        const run = await countersign(['ledger', 'verify', '--data-dir', empty]);
        assert.equal(run.code, 3, run.stdout + run.stderr);
        assert.match(run.stderr, /no gateway database/);
        assert.deepEqual(readdirSync(empty), []);
      }
      if (url) {
        const run = await countersign(['ledger', 'verify'], { GATEWAY_DATABASE_URL: url });
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.match(run.stdout, /OK: the books balance/);
      }
      // The corruption: an account credited out of nowhere, and a second capture row written around the ledger.
      const [captured] = await rows<{ id: string }>(
        gw.database.db,
        sql`select id from payment_sessions where status = 'captured' and merchant_id = ${DEMO_MERCHANT_ID} limit 1`,
      );
      const available = `acct_${DEMO_MERCHANT_ID}_EUR_available`;
      await gw.database.db.execute(
        sql`update ledger_accounts set credits_posted = credits_posted + 1 where id = ${available}`,
      );
      await gw.database.db.execute(sql`
        insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, kind, phase, session_id, created_at)
        values ('forged', ${`acct_${DEMO_MERCHANT_ID}_EUR_settlement`}, ${`acct_${DEMO_MERCHANT_ID}_EUR_pending`}, 2500, 'EUR', 'capture', 'single', ${captured!.id}, now())`);
      const found = (await verifyLedger(gw.database.db)).findings;
      const has = (check: string, subject: string) => found.some((f) => f.check === check && f.subject === subject);
      assert.ok(has('currency_unbalanced', 'EUR'), JSON.stringify(found));
      assert.ok(has('balance_mismatch', available), JSON.stringify(found));
      assert.ok(has('balance_mismatch', `acct_${DEMO_MERCHANT_ID}_EUR_settlement`), JSON.stringify(found));
      if (url) {
        const run = await countersign(['ledger', 'verify', '--json'], { GATEWAY_DATABASE_URL: url });
        assert.equal(run.code, 1, run.stdout + run.stderr);
        const report = JSON.parse(run.stdout) as { verdict: string; findings: { check: string }[] };
        assert.equal(report.verdict, 'differences');
        assert.equal(report.findings.length, found.length);
      }
    });
  });
}
