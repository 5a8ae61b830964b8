// Balances and holds under concurrency, on both engines: 50 authorisations at once against an
// account that can afford 20 approve exactly 20 and never take the available balance below zero;
// the same gateway_ref sent 10 times at once holds once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { testEngines } from '../src/platform/db/testing.ts';
import { accounts, authorizations } from '../src/bank/storage/schema.ts';
import {
  authorizationBody,
  createTestCardholder,
  randomCardNumber,
  startTestBank,
  type TestBank,
} from '../src/bank/testing.ts';

for (const engine of testEngines()) {
  describe(`bank holds under concurrency (${engine})`, () => {
    let t: TestBank;
    before(async () => {
      t = await startTestBank(engine, { env: { BANK_DEMO_CARDHOLDER: 'false' } });
    });
    after(async () => {
      await t?.close();
    });

    it('approves exactly as many of 50 concurrent authorisations as the balance allows, never below zero', async () => {
      const number = randomCardNumber();
      const holder = await createTestCardholder(t, {
        accounts: [{ name: 'Current account', balanceMinor: 20_000n }],
        cards: [{ number, account: 0, policy: 'standard', label: 'test' }],
      });
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          t.gateway(
            'POST',
            '/api/v1/authorizations',
            authorizationBody(number, { amount: { minor: '1000', currency: 'EUR' } }),
          ),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status).filter((s) => s !== 201),
        [],
      );
      const approved = results.filter((r) => r.body.status === 'approved');
      const declined = results.filter((r) => r.body.status === 'declined');
      assert.equal(approved.length, 20);
      assert.equal(declined.length, 30);
      assert.ok(declined.every((r) => r.body.decline_reason === 'insufficient_funds'));
      const [account] = await t.bank.database.db.select().from(accounts).where(eq(accounts.id, holder.accountIds[0]!));
      assert.equal(account!.balanceMinor, 20_000n);
      assert.equal(account!.heldMinor, 20_000n);

      // Release 5 holds concurrently and race 10 new authorisations: exactly 5 more fit.
      const voids = approved.slice(0, 5).map((r) => t.gateway('POST', `/api/v1/authorizations/${r.body.id}/void`));
      await Promise.all(voids);
      const more = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.gateway(
            'POST',
            '/api/v1/authorizations',
            authorizationBody(number, { amount: { minor: '1000', currency: 'EUR' } }),
          ),
        ),
      );
      assert.equal(more.filter((r) => r.body.status === 'approved').length, 5);
      const [final] = await t.bank.database.db.select().from(accounts).where(eq(accounts.id, holder.accountIds[0]!));
      assert.equal(final!.heldMinor, 20_000n);
      assert.ok(final!.balanceMinor - final!.heldMinor >= 0n);
    });

    it('holds once when the same gateway_ref arrives 10 times at once', async () => {
      const number = randomCardNumber();
      const holder = await createTestCardholder(t, {
        cards: [{ number, account: 0, policy: 'standard', label: 'test' }],
      });
      const body = authorizationBody(number, { amount: { minor: '700', currency: 'EUR' } });
      const results = await Promise.all(
        Array.from({ length: 10 }, () => t.gateway('POST', '/api/v1/authorizations', body)),
      );
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([201, 200]));
      assert.equal(results.filter((r) => r.status === 201).length, 1);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
      const rows = await t.bank.database.db
        .select()
        .from(authorizations)
        .where(eq(authorizations.gatewayRef, body.gateway_ref));
      assert.equal(rows.length, 1);
      const [account] = await t.bank.database.db.select().from(accounts).where(eq(accounts.id, holder.accountIds[0]!));
      assert.equal(account!.heldMinor, 700n);
    });
  });
}
