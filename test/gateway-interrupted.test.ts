// A card submission whose bank answer was lost in a crash (found by the crash matrix: the
// gateway killed after the bank authorised but before it recorded the answer). The session is left
// `processing`; recovery asks the bank what it did for the session's reference: an authorisation it
// made is applied as its answer (the shop is then asked, and the payment captured or voided as any
// other), one it never saw sends the session back to `created` for the payer to retry, and an
// unreachable bank leaves it to be asked again. Before, every such session went back to `created`
// and the bank's hold stayed on the payer's account for ever.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { recoverInterrupted } from '../src/gateway/commands/recover-interrupted.ts';
import { events, paymentSessions } from '../src/gateway/storage/tables.ts';
import { startTestGateway } from '../src/gateway/testing.ts';
import { money } from '../src/core/money.ts';

const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123', name: 'Crash Tester' };

for (const engine of testEngines()) {
  describe(`gateway: recovering card submissions interrupted by a crash (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    before(async () => {
      gw = await startTestGateway(engine);
    });
    after(async () => {
      await gw?.stop();
    });

    /** A session as a crash after the card submit's commit leaves it: `processing`, the bank maybe asked. */
    async function interrupted(bankAuthorised: boolean): Promise<string> {
      const res = await gw.api('/v1/payment_sessions', {
        body: { amount: { minor: '2500', currency: 'EUR' }, merchant_reference: `inv_crash${Date.now()}` },
      });
      const { id } = (await res.json()) as { id: string };
      await gw.database.db.update(paymentSessions).set({ status: 'processing' }).where(eq(paymentSessions.id, id));
      if (bankAuthorised)
        await gw.issuer.authorize({
          gatewayRef: id,
          card: CARD,
          amount: money(2500n, 'EUR'),
          merchantName: 'x',
          description: '',
          reference: 'r',
        });
      return id;
    }
    const session = async (id: string) =>
      (await gw.database.db.select().from(paymentSessions).where(eq(paymentSessions.id, id)))[0]!;

    it('applies the authorisation the bank made (authorized, its hold known, payment.authorized sent to the shop); a second run changes nothing', async () => {
      const id = await interrupted(true);
      const clock = fakeClock(Date.now() + 10 * 60_000);
      const gateway = { database: gw.database, issuer: gw.issuer, clock, fingerprintSecret: 'interrupted-test-secret' };
      assert.ok((await recoverInterrupted(gateway, 120_000)).includes(id));
      const s = await session(id);
      assert.equal(s.status, 'authorized');
      assert.match(s.bankAuthorizationId ?? '', /^bauth_fake/);
      const types = (await gw.database.db.select().from(events).where(eq(events.sessionId, id))).map((e) => e.type);
      assert.ok(types.includes('payment.authorized'), `events: ${types.join(', ')}`);
      assert.ok(!(await recoverInterrupted(gateway, 120_000)).includes(id));
    });

    it('sends a session the bank never saw back to created for the payer to retry', async () => {
      const id = await interrupted(false);
      const gateway = {
        database: gw.database,
        issuer: gw.issuer,
        clock: fakeClock(Date.now() + 10 * 60_000),
        fingerprintSecret: 'interrupted-test-secret',
      };
      assert.ok((await recoverInterrupted(gateway, 120_000)).includes(id));
      const s = await session(id);
      assert.equal(s.status, 'created');
      assert.equal(s.lastError, 'interrupted');
    });

    it('leaves a session alone while its bank call may still be in flight, or while the bank cannot be asked', async () => {
      const id = await interrupted(true);
      const young = {
        database: gw.database,
        issuer: gw.issuer,
        clock: fakeClock(Date.now()),
        fingerprintSecret: 'interrupted-test-secret',
      };
      assert.ok(!(await recoverInterrupted(young, 120_000)).includes(id));
      gw.issuer.unavailable = true;
      try {
        const old = {
          database: gw.database,
          issuer: gw.issuer,
          clock: fakeClock(Date.now() + 10 * 60_000),
          fingerprintSecret: 'interrupted-test-secret',
        };
        assert.ok(!(await recoverInterrupted(old, 120_000)).includes(id));
        assert.equal(
          (await session(id)).status,
          'processing',
          'not sent back to created while the bank may hold money for it',
        );
      } finally {
        gw.issuer.unavailable = false;
      }
    });
  });
}
