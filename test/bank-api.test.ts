// The issuer API the gateway calls, against a started bank on both engines: authorise with every
// decline reason, holds, capture, void, refund, idempotency, and refusal of forged, stale and
// replayed requests (which change nothing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { rows } from '../src/platform/db/database.ts';
import { accounts, authorizations, cards, gatewayRequests, movements } from '../src/bank/storage/schema.ts';
import { authorizationBody, cardOf, startTestBank, type TestBank } from '../src/bank/testing.ts';

for (const engine of testEngines()) {
  describe(`bank issuer API (${engine})`, () => {
    let t: TestBank;
    before(async () => {
      t = await startTestBank(engine);
    });
    after(async () => {
      await t?.close();
    });

    async function accountOf(number: string) {
      const db = t.bank.database.db;
      const [card] = await db.select().from(cards).where(eq(cards.number, number));
      const [account] = await db.select().from(accounts).where(eq(accounts.id, card!.accountId));
      return account!;
    }

    it('approves the approved card at once and holds the amount on the account', async () => {
      const before = await accountOf(cardOf('approved'));
      const res = await t.gateway('POST', '/api/v1/authorizations', authorizationBody(cardOf('approved')));
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'approved');
      assert.match(res.body.id, /^bauth_/);
      const afterHold = await accountOf(cardOf('approved'));
      assert.equal(afterHold.heldMinor - before.heldMinor, 1250n);
      assert.equal(afterHold.balanceMinor, before.balanceMinor);
    });

    it('returns the same authorisation for a repeated gateway_ref without holding twice', async () => {
      const body = authorizationBody(cardOf('approved'));
      const first = await t.gateway('POST', '/api/v1/authorizations', body);
      const held = (await accountOf(cardOf('approved'))).heldMinor;
      const second = await t.gateway('POST', '/api/v1/authorizations', body);
      assert.equal(first.status, 201);
      assert.equal(second.status, 200);
      assert.equal(second.body.id, first.body.id);
      assert.equal((await accountOf(cardOf('approved'))).heldMinor, held);
    });

    it('declines with the reason the card and the request call for', async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        [cardOf('declined'), {}, 'card_declined'],
        [cardOf('insufficient_funds'), {}, 'insufficient_funds'],
        ['4000000000000000', {}, 'unknown_card'],
        [cardOf('approved'), { cvc: '999' }, 'invalid_cvc'],
        [cardOf('approved'), { exp_month: 1, exp_year: 2020 }, 'expired_card'],
      ];
      for (const [number, cardOverrides, reason] of cases) {
        const body = authorizationBody(number);
        const res = await t.gateway('POST', '/api/v1/authorizations', {
          ...body,
          card: { ...body.card, ...cardOverrides },
        });
        assert.equal(res.status, 201, reason);
        assert.equal(res.body.status, 'declined', reason);
        assert.equal(res.body.decline_reason, reason);
      }
    });

    it('declines an amount larger than the available balance and holds nothing', async () => {
      const before = await accountOf(cardOf('approved'));
      const available = before.balanceMinor - before.heldMinor;
      const res = await t.gateway(
        'POST',
        '/api/v1/authorizations',
        authorizationBody(cardOf('approved'), { amount: { minor: String(available + 1n), currency: 'EUR' } }),
      );
      assert.equal(res.body.status, 'declined');
      assert.equal(res.body.decline_reason, 'insufficient_funds');
      assert.equal((await accountOf(cardOf('approved'))).heldMinor, before.heldMinor);
    });

    it('captures into a debit movement, releases the rest of the hold, and repeats idempotently', async () => {
      const before = await accountOf(cardOf('approved'));
      const auth = await t.gateway(
        'POST',
        '/api/v1/authorizations',
        authorizationBody(cardOf('approved'), { amount: { minor: '5000', currency: 'EUR' } }),
      );
      const cap = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/capture`, {
        amount: { minor: '4000', currency: 'EUR' },
      });
      assert.equal(cap.status, 200);
      assert.equal(cap.body.status, 'captured');
      const again = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/capture`, {
        amount: { minor: '4000', currency: 'EUR' },
      });
      assert.equal(again.body.status, 'captured');
      const afterCapture = await accountOf(cardOf('approved'));
      assert.equal(afterCapture.balanceMinor, before.balanceMinor - 4000n);
      assert.equal(afterCapture.heldMinor, before.heldMinor);
      const debits = await t.bank.database.db
        .select()
        .from(movements)
        .where(eq(movements.authorizationId, auth.body.id));
      assert.deepEqual(
        debits.map((m) => [m.kind, m.amountMinor]),
        [['capture', -4000n]],
      );
    });

    it('voids an approved authorisation, releasing its hold, and refuses to capture it afterwards', async () => {
      const before = await accountOf(cardOf('approved'));
      const auth = await t.gateway('POST', '/api/v1/authorizations', authorizationBody(cardOf('approved')));
      const voided = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/void`);
      assert.equal(voided.body.status, 'voided');
      assert.equal((await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/void`)).body.status, 'voided');
      assert.equal((await accountOf(cardOf('approved'))).heldMinor, before.heldMinor);
      const cap = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/capture`, {
        amount: { minor: '1250', currency: 'EUR' },
      });
      assert.equal(cap.status, 409);
      assert.equal(cap.body.error.code, 'state.illegal_transition');
      const got = await t.gateway('GET', `/api/v1/authorizations/${auth.body.id}`);
      assert.equal(got.body.status, 'voided');
    });

    it('refunds as credit movements, idempotent on refund_ref, never beyond the captured amount', async () => {
      const auth = await t.gateway(
        'POST',
        '/api/v1/authorizations',
        authorizationBody(cardOf('approved'), { amount: { minor: '3000', currency: 'EUR' } }),
      );
      await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/capture`, {
        amount: { minor: '3000', currency: 'EUR' },
      });
      const before = await accountOf(cardOf('approved'));
      const r1 = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/refunds`, {
        refund_ref: 'ref-1',
        amount: { minor: '1000', currency: 'EUR' },
      });
      assert.equal(r1.status, 200);
      assert.equal(r1.body.status, 'refunded');
      const r1again = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/refunds`, {
        refund_ref: 'ref-1',
        amount: { minor: '1000', currency: 'EUR' },
      });
      assert.equal(r1again.body.id, r1.body.id);
      const tooMuch = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/refunds`, {
        refund_ref: 'ref-2',
        amount: { minor: '2001', currency: 'EUR' },
      });
      assert.equal(tooMuch.status, 409);
      assert.equal(tooMuch.body.error.code, 'refund.exceeds_captured');
      const rest = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/refunds`, {
        refund_ref: 'ref-3',
        amount: { minor: '2000', currency: 'EUR' },
      });
      assert.equal(rest.status, 200);
      assert.equal((await accountOf(cardOf('approved'))).balanceMinor, before.balanceMinor + 3000n);
      const [row] = await t.bank.database.db.select().from(authorizations).where(eq(authorizations.id, auth.body.id));
      assert.equal(row!.refundedMinor, 3000n);
      // Each refund a credit movement on the account, as the capture was a debit; a repeat books nothing.
      const booked = await t.bank.database.db
        .select()
        .from(movements)
        .where(eq(movements.authorizationId, auth.body.id))
        .orderBy(movements.amountMinor);
      assert.deepEqual(
        booked.map((m) => [m.kind, m.amountMinor, m.currency, m.accountId, m.description.startsWith('Refund: ')]),
        [
          ['capture', -3000n, 'EUR', row!.accountId, false],
          ['refund', 1000n, 'EUR', row!.accountId, true],
          ['refund', 2000n, 'EUR', row!.accountId, true],
        ],
      );
    });

    it('refuses to refund an authorisation that was never captured', async () => {
      const auth = await t.gateway('POST', '/api/v1/authorizations', authorizationBody(cardOf('approved')));
      const res = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/refunds`, {
        refund_ref: 'r',
        amount: { minor: '100', currency: 'EUR' },
      });
      assert.equal(res.status, 409);
    });

    it('refuses an unsigned request with 401 and creates nothing', async () => {
      const body = authorizationBody(cardOf('approved'));
      const res = await fetch(`${t.url}/api/v1/authorizations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 401);
      const json = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(json.error.code, 'request.signature_invalid');
      const rows = await t.bank.database.db
        .select()
        .from(authorizations)
        .where(eq(authorizations.gatewayRef, body.gateway_ref));
      assert.equal(rows.length, 0);
    });

    it('refuses a request signed with another key (forged) with 401 and holds nothing', async () => {
      const before = await accountOf(cardOf('approved'));
      const body = authorizationBody(cardOf('approved'));
      const res = await t.gateway('POST', '/api/v1/authorizations', body, { key: newWebhookSecret() });
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'request.signature_invalid');
      assert.equal((await accountOf(cardOf('approved'))).heldMinor, before.heldMinor);
      assert.equal(
        (await t.bank.database.db.select().from(authorizations).where(eq(authorizations.gatewayRef, body.gateway_ref)))
          .length,
        0,
      );
    });

    it('refuses a request whose body was altered after signing', async () => {
      const body = authorizationBody(cardOf('approved'));
      const { signRequest } = await import('../src/core/request-signature.ts');
      const headers = signRequest({
        method: 'POST',
        target: '/api/v1/authorizations',
        id: 'sreq_tamper',
        timestamp: new Date(),
        body: JSON.stringify(body),
        secrets: [t.gatewayKey],
      });
      const tampered = JSON.stringify({ ...body, amount: { minor: '1', currency: 'EUR' } });
      const res = await fetch(`${t.url}/api/v1/authorizations`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: tampered,
      });
      assert.equal(res.status, 401);
    });

    it('refuses a correctly signed JSON body sent as text/plain or a form with 415, holding and paying out nothing', async () => {
      const { signRequest } = await import('../src/core/request-signature.ts');
      const before = await accountOf(cardOf('approved'));
      const authorization = authorizationBody(cardOf('approved'));
      const payout = {
        payout_id: 'po_01KDT0000000000000000000ZZ',
        merchant_id: 'mer_x',
        amount_minor: '500',
        currency: 'EUR',
      };
      for (const [target, body] of [
        ['/api/v1/authorizations', authorization],
        ['/api/v1/payouts', payout],
      ] as const) {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
          const raw = JSON.stringify(body);
          const headers = signRequest({
            method: 'POST',
            target,
            id: `sreq_type_${target.length}_${type.length}`,
            timestamp: new Date(),
            body: raw,
            secrets: [t.gatewayKey],
          });
          const res = await fetch(`${t.url}${target}`, {
            method: 'POST',
            headers: { ...headers, 'content-type': type },
            body: raw,
          });
          assert.equal(res.status, 415, `${target} as ${type}`);
          assert.equal(
            ((await res.json()) as { error: { code: string } }).error.code,
            'request.unsupported_media_type',
          );
        }
      }
      assert.equal((await accountOf(cardOf('approved'))).heldMinor, before.heldMinor);
      const held = await t.bank.database.db
        .select()
        .from(authorizations)
        .where(eq(authorizations.gatewayRef, authorization.gateway_ref));
      assert.equal(held.length, 0);
      const [paid] = await rows<{ n: number }>(
        t.bank.database.db,
        sql`select count(*)::int as n from bank_ledger_transfers where ref = ${payout.payout_id}`,
      );
      assert.equal(paid!.n, 0);
    });

    it('refuses a request whose timestamp is more than 5 minutes old or ahead', async () => {
      for (const skew of [-6 * 60_000, 6 * 60_000]) {
        const body = authorizationBody(cardOf('approved'));
        const res = await t.gateway('POST', '/api/v1/authorizations', body, { timestamp: new Date(Date.now() + skew) });
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, 'request.timestamp_out_of_tolerance');
        assert.equal(
          (
            await t.bank.database.db
              .select()
              .from(authorizations)
              .where(eq(authorizations.gatewayRef, body.gateway_ref))
          ).length,
          0,
        );
      }
    });

    it('refuses a replayed request (same request id) with 409 and changes nothing', async () => {
      const auth = await t.gateway(
        'POST',
        '/api/v1/authorizations',
        authorizationBody(cardOf('approved'), { amount: { minor: '2000', currency: 'EUR' } }),
      );
      await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/capture`, {
        amount: { minor: '2000', currency: 'EUR' },
      });
      const refund = { refund_ref: 'once', amount: { minor: '500', currency: 'EUR' } };
      const first = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/refunds`, refund, {
        id: 'sreq_replay_me',
      });
      assert.equal(first.status, 200);
      const balance = (await accountOf(cardOf('approved'))).balanceMinor;
      // The same signed message again, and the same id on a different (new) refund: both refused.
      const replay = await t.gateway('POST', `/api/v1/authorizations/${auth.body.id}/refunds`, refund, {
        id: 'sreq_replay_me',
      });
      assert.equal(replay.status, 409);
      assert.equal(replay.body.error.code, 'request.replayed');
      const sneaky = await t.gateway(
        'POST',
        `/api/v1/authorizations/${auth.body.id}/refunds`,
        { refund_ref: 'other', amount: { minor: '500', currency: 'EUR' } },
        { id: 'sreq_replay_me' },
      );
      assert.equal(sneaky.status, 409);
      assert.equal((await accountOf(cardOf('approved'))).balanceMinor, balance);
      const seen = await t.bank.database.db
        .select()
        .from(gatewayRequests)
        .where(eq(gatewayRequests.webhookId, 'sreq_replay_me'));
      assert.equal(seen.length, 1);
    });

    it('documents every issuer endpoint and the decision callback in /openapi.json', async () => {
      const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
        webhooks: Record<string, unknown>;
      };
      assert.deepEqual(
        Object.keys(doc.paths)
          .filter((p) => p.startsWith('/api/v1'))
          .sort(),
        [
          '/api/v1/authorizations',
          '/api/v1/authorizations/{id}',
          '/api/v1/authorizations/{id}/capture',
          '/api/v1/authorizations/{id}/refunds',
          '/api/v1/authorizations/{id}/void',
          '/api/v1/disputes/{ref}/accept',
          '/api/v1/disputes/{ref}/evidence',
          '/api/v1/journey',
          '/api/v1/payouts',
        ],
      );
      assert.ok(doc.webhooks.authorization_decided);
      assert.ok(doc.webhooks.dispute_opened);
      assert.ok(doc.webhooks.dispute_closed);
    });

    it('answers 404 for an unknown authorisation and 422 for a malformed body', async () => {
      assert.equal((await t.gateway('GET', '/api/v1/authorizations/bauth_01ARZ3NDEKTSV4RRFFQ69G5FAV')).status, 404);
      const bad = await t.gateway('POST', '/api/v1/authorizations', {
        gateway_ref: 'x',
        amount: { minor: '-5', currency: 'EUR' },
      });
      assert.equal(bad.status, 422);
    });
  });
}
