// The bank's double-entry ledger on both engines, driven through the issuer API the gateway calls
// (signed requests, the real bank): each bank step writes its transfers in its own transaction — the
// hold is a pending transfer, the capture posts it (the rest goes back), a void, a decline after the
// hold and an approval's expiry void it, a refund is a transfer back — and the accounts table keeps
// its meaning (balance = the ledger account's posted credits less debits, held = its pending debits).
// Replays write nothing twice; the bank's checks are clean after the run and name corrupted rows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { accounts, cards } from '../src/bank/storage/schema.ts';
import { bankLedgerAccount } from '../src/bank/storage/ledger.ts';
import { verifyBankLedger } from '../src/bank/storage/ledger-verify.ts';
import { authorizationBody, cardOf, startTestBank, type TestBank } from '../src/bank/testing.ts';
import { eventually } from '../src/gateway/testing.ts';

for (const engine of testEngines()) {
  describe(`bank ledger (${engine})`, () => {
    let t: TestBank;
    before(async () => {
      t = await startTestBank(engine);
    });
    after(async () => {
      await t?.close();
    });

    const accountOf = async (number: string) => {
      const db = t.bank.database.db;
      const [card] = await db.select().from(cards).where(eq(cards.number, number));
      const [account] = await db.select().from(accounts).where(eq(accounts.id, card!.accountId));
      return account!;
    };
    const transfersOf = async (authId: string) =>
      (
        await rows<{ kind: string; phase: string; amount_minor: string }>(
          t.bank.database.db,
          sql`select kind, phase, amount_minor::text from bank_ledger_transfers where ref = ${authId} order by created_at, id`,
        )
      ).map((r) => `${r.phase}:${r.kind}:${r.amount_minor}`);
    /** The accounts table and the cardholder's ledger account say the same. */
    const agrees = async (number: string) => {
      const a = await accountOf(number);
      const l = (await bankLedgerAccount(t.bank.database.db, `cardholder:${a.id}:${a.currency}`))!;
      assert.equal(l.creditsPosted - l.debitsPosted, a.balanceMinor, 'balance = ledger posted credits - debits');
      assert.equal(l.debitsPending, a.heldMinor, 'held = ledger pending debits');
    };
    const authorize = async (number: string, minor: string) => {
      const res = await t.gateway(
        'POST',
        '/api/v1/authorizations',
        authorizationBody(number, { amount: { minor, currency: 'EUR' } }),
      );
      assert.ok(res.status === 201, JSON.stringify(res.body));
      return res.body as { id: string; status: string };
    };

    it('the opening balance, a hold, a partial capture and a refund are transfers that keep the account as it was', async () => {
      await agrees(cardOf('approved'));
      const auth = await authorize(cardOf('approved'), '4000');
      assert.deepEqual(await transfersOf(auth.id), ['pending:hold:4000']);
      await agrees(cardOf('approved'));
      const capture = await t.gateway('POST', `/api/v1/authorizations/${auth.id}/capture`, {
        amount: { minor: '3000', currency: 'EUR' },
      });
      assert.equal(capture.status, 200);
      // Captured again (a retried request): nothing more.
      await t.gateway('POST', `/api/v1/authorizations/${auth.id}/capture`, {
        amount: { minor: '3000', currency: 'EUR' },
      });
      assert.deepEqual(await transfersOf(auth.id), ['pending:hold:4000', 'post:capture:3000']);
      await agrees(cardOf('approved'));
      const refund = await t.gateway('POST', `/api/v1/authorizations/${auth.id}/refunds`, {
        refund_ref: 'ref_ledger_1',
        amount: { minor: '1000', currency: 'EUR' },
      });
      assert.equal(refund.status, 200);
      await t.gateway('POST', `/api/v1/authorizations/${auth.id}/refunds`, {
        refund_ref: 'ref_ledger_1',
        amount: { minor: '1000', currency: 'EUR' },
      });
      const [r] = await rows<{ kind: string; amount_minor: string }>(
        t.bank.database.db,
        sql`select kind, amount_minor::text from bank_ledger_transfers where ref = ${refund.body.id}`,
      );
      assert.deepEqual(r, { kind: 'refund', amount_minor: '1000' });
      await agrees(cardOf('approved'));
    });

    it('a void, a decline in the app and an expired approval release the hold by a void', async () => {
      const voided = await authorize(cardOf('approved'), '1500');
      assert.equal((await t.gateway('POST', `/api/v1/authorizations/${voided.id}/void`, {})).status, 200);
      await t.gateway('POST', `/api/v1/authorizations/${voided.id}/void`, {});
      assert.deepEqual(await transfersOf(voided.id), ['pending:hold:1500', 'void:release:1500']);
      const expiring = await authorize(cardOf('approval_timeout'), '1700');
      assert.equal(expiring.status, 'pending');
      assert.deepEqual(await transfersOf(expiring.id), ['pending:hold:1700']);
      await eventually(async () => ((await transfersOf(expiring.id)).length === 2 ? true : undefined), 20_000);
      assert.deepEqual(await transfersOf(expiring.id), ['pending:hold:1700', 'void:release:1700']);
      await agrees(cardOf('approved'));
      await agrees(cardOf('approval_timeout'));
      // A card declined before any hold writes nothing.
      const declined = await t.gateway('POST', '/api/v1/authorizations', authorizationBody(cardOf('declined')));
      assert.deepEqual(await transfersOf(declined.body.id), []);
    });

    it("the bank's checks are clean after the run, and name corrupted rows", async () => {
      const clean = await verifyBankLedger(t.bank.database.db);
      assert.deepEqual(clean.findings, []);
      assert.ok(clean.transfers >= 8, JSON.stringify(clean));
      // Transfers are immutable in the database too.
      await assert.rejects(t.bank.database.db.execute(sql`delete from bank_ledger_transfers`));
      const a = await accountOf(cardOf('approved'));
      // A balance changed around the ledger, and an account credited out of nowhere.
      await t.bank.database.db.execute(sql`update accounts set balance_minor = balance_minor + 1 where id = ${a.id}`);
      await t.bank.database.db.execute(
        sql`update bank_ledger_accounts set credits_posted = credits_posted + 5 where id = ${`settlement:payouts:EUR`} or id = ${`opening:bank:EUR`}`,
      );
      const found = (await verifyBankLedger(t.bank.database.db)).findings;
      const has = (check: string, subject: string) => found.some((f) => f.check === check && f.subject === subject);
      assert.ok(has('account_disagrees', a.id), JSON.stringify(found));
      assert.ok(has('currency_unbalanced', 'EUR'), JSON.stringify(found));
      assert.ok(has('balance_mismatch', 'opening:bank:EUR'), JSON.stringify(found));
      await t.bank.database.db.execute(sql`update accounts set balance_minor = balance_minor - 1 where id = ${a.id}`);
      await t.bank.database.db.execute(
        sql`update bank_ledger_accounts set credits_posted = credits_posted - 5 where id = ${`opening:bank:EUR`}`,
      );
      assert.deepEqual((await verifyBankLedger(t.bank.database.db)).findings, []);
    });
  });
}
