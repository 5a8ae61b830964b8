// `countersign ledger verify` across the three parties (the command as a process, the three real
// services in process on PostgreSQL): after real payments through shop, gateway and bank it checks
// both ledgers and matches the shop's paid invoices, the gateway's captures and the bank's debits —
// clean, with counts; a shop invoice whose session or status disagrees and a bank authorisation whose
// capture disagrees are each listed, saying which party has what (exit 1); a bank database named but
// unreachable is exit 3. With PGlite, the data directory's layout (npm start) is found on its own.
// The match itself, every kind of difference, is checked on its pure function.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { matchGatewayBank, matchShopGateway } from '../src/core/three-way-match.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import { bankDatabaseSpec } from '../src/bank/main.ts';
import { gatewayDatabaseSpec } from '../src/gateway/main.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { paymentAttempts } from '../src/shop/storage/schema.ts';
import { eventually } from '../src/gateway/testing.ts';
import { countersign } from './support/cli.ts';
import { startProofSystem, type ProofSystem } from './support/harness/in-process.ts';
import type { ShopClient } from './support/shop-client.ts';
import { tempDir } from './support/temp-dir.ts';

describe('the three-way match (pure)', () => {
  const cap = (sessionId: string, minor: bigint, merchantId = 'mer_A') => ({
    sessionId,
    merchantId,
    amountMinor: minor,
    currency: 'EUR',
  });
  it('lists every difference between the shop and the gateway, reading a Stripe-dialect id as its session', () => {
    const found = matchShopGateway(
      [
        { invoiceId: 'inv_1', sessionId: 'ps_1', amountMinor: 100n, currency: 'EUR' },
        { invoiceId: 'inv_2', sessionId: 'cs_2', amountMinor: 200n, currency: 'EUR' },
        { invoiceId: 'inv_3', sessionId: 'pi_3', amountMinor: 300n, currency: 'EUR' },
        { invoiceId: 'inv_4', sessionId: 'ps_4', amountMinor: 400n, currency: 'EUR' },
        { invoiceId: 'inv_5', sessionId: null, amountMinor: 500n, currency: 'EUR' },
        { invoiceId: 'inv_6', sessionId: 'ps_1', amountMinor: 100n, currency: 'EUR' },
      ],
      [cap('ps_1', 100n), cap('ps_2', 200n), cap('ps_3', 301n), cap('ps_9', 900n), cap('ps_8', 800n, 'mer_other')],
      ['ps_1', 'cs_2', 'pi_3', 'ps_4'],
    );
    assert.deepEqual(
      found.map((f) => `${f.check} ${f.subject}`),
      [
        'shop_gateway_amount inv_3',
        'shop_paid_not_captured inv_4',
        'shop_paid_without_session inv_5',
        'session_paid_twice ps_1',
        'captured_not_paid_at_shop ps_9',
      ],
    );
    assert.match(found[0]!.detail, /shop: paid 300 EUR; gateway: captured 301 EUR/);
  });
  it('lists every difference between the gateway and the bank', () => {
    const found = matchGatewayBank(
      [cap('ps_1', 100n), cap('ps_2', 200n), cap('ps_3', 300n, 'mer_other')],
      [
        { gatewayRef: 'ps_1', amountMinor: 100n, currency: 'EUR' },
        { gatewayRef: 'ps_3', amountMinor: 300n, currency: 'SEK' },
        { gatewayRef: 'ps_7', amountMinor: 700n, currency: 'EUR' },
      ],
    );
    assert.deepEqual(
      found.map((f) => `${f.check} ${f.subject}`),
      ['captured_not_at_bank ps_2', 'gateway_bank_amount ps_3', 'bank_captured_not_at_gateway ps_7'],
    );
    assert.match(found[1]!.detail, /gateway: captured 300 EUR; bank: debited 300 SEK/);
  });
});

describe('countersign ledger verify across shop, gateway and bank (PostgreSQL)', {
  skip: !process.env.COUNTERSIGN_TEST_PG_URL && 'needs COUNTERSIGN_TEST_PG_URL',
}, () => {
  let sys: ProofSystem;
  let customer: ShopClient;
  const paid: { invoiceId: string; sessionId: string }[] = [];
  before(async () => {
    sys = await startProofSystem({ jobs: true });
    customer = await sys.login('customer');
  });
  after(async () => {
    await sys?.stop();
  });
  const env = () => ({
    GATEWAY_DATABASE_URL: sys.databaseUrls.gateway,
    BANK_DATABASE_URL: sys.databaseUrls.bank,
    SHOP_DATABASE_URL: sys.databaseUrls.shop,
  });

  it('is clean after real payments, and names what each party has when they disagree', async () => {
    for (let i = 0; i < 2; i++) {
      const p = await sys.payNow(customer, [{ productId: sys.productIds[i]!, quantity: 1 }]);
      assert.ok((await sys.payCard(p.sessionId)).status < 300);
      await sys.settled(p.sessionId, ['captured']);
      await eventually(async () => {
        const [a] = await sys.shopDb.db
          .select()
          .from(paymentAttempts)
          .where(eq(paymentAttempts.gatewaySessionId, p.sessionId));
        return a?.status === 'captured' ? true : undefined;
      });
      paid.push(p);
    }
    const clean = await countersign(['ledger', 'verify'], env());
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(
      clean.stdout,
      /bank: checked \d+ account\(s\), \d+ transfer\(s\); 2 capture\(s\) matched against the gateway's 2/,
    );
    assert.match(clean.stdout, /shop: 2 paid invoice\(s\) matched/);
    assert.match(clean.stdout, /OK: the books balance/);

    const [one, two] = paid;
    // The shop's terms are frozen (a trigger): its paid attempt is pointed at a session the gateway never captured.
    await sys.shopDb.db.execute(
      sql`update payment_attempts set gateway_session_id = 'ps_forged' where gateway_session_id = ${one!.sessionId}`,
    );
    await sys.shopDb.db.execute(sql`update invoices set status = 'expired' where id = ${two!.invoiceId}`);
    await sys.bankDb.db.execute(
      sql`update authorizations set captured_minor = captured_minor + 1 where gateway_ref = ${two!.sessionId}`,
    );
    const run = await countersign(['ledger', 'verify', '--json'], env());
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const report = JSON.parse(run.stdout) as {
      verdict: string;
      findings: { party: string; check: string; subject: string; detail: string }[];
    };
    assert.equal(report.verdict, 'differences');
    const has = (party: string, check: string, subject: string) =>
      report.findings.some((f) => f.party === party && f.check === check && f.subject === subject);
    assert.ok(has('match', 'shop_paid_not_captured', one!.invoiceId), JSON.stringify(report.findings));
    assert.ok(has('match', 'captured_not_paid_at_shop', one!.sessionId), JSON.stringify(report.findings));
    assert.ok(has('match', 'captured_not_paid_at_shop', two!.sessionId), JSON.stringify(report.findings));
    assert.ok(
      report.findings.some((f) => f.party === 'bank' && f.check === 'capture_not_posted'),
      JSON.stringify(report.findings),
    );

    const unreachable = await countersign(['ledger', 'verify'], {
      ...env(),
      BANK_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    });
    assert.equal(unreachable.code, 3, unreachable.stdout + unreachable.stderr);
    assert.match(unreachable.stderr, /cannot (open the bank's database|read the books)/);
  });
});

describe('countersign ledger verify in a data directory (PGlite, the npm start layout)', () => {
  it("finds the bank's and the shop's databases beside the gateway's", async () => {
    const dir = tempDir('cs-books-');
    for (const [party, spec] of [
      ['gateway', gatewayDatabaseSpec],
      ['bank', bankDatabaseSpec],
      ['shop', shopDatabaseSpec],
    ] as const) {
      const db = await openDatabase(spec, { engine: 'pglite', dataDir: join(dir, party) });
      await db.close();
    }
    const run = await countersign(['ledger', 'verify', '--data-dir', dir]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /bank: checked 0 account\(s\)/);
    assert.match(run.stdout, /shop: 0 paid invoice\(s\)/);
    // Only the gateway's there: the others are not checked, and that is said.
    const alone = tempDir('cs-books-');
    await (await openDatabase(gatewayDatabaseSpec, { engine: 'pglite', dataDir: join(alone, 'gateway') })).close();
    const one = await countersign(['ledger', 'verify', '--data-dir', alone]);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /bank: not checked/);
    assert.match(one.stdout, /shop: not checked/);
  });
});
