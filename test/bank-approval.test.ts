// Approvals in the bank app, on both engines, with a fake clock: the request is pushed to the
// cardholder's own WebSocket room, answered once (approve or decline) with CSRF, or expires; each
// outcome reaches the gateway as a signed callback (retried when the gateway fails); another
// cardholder can neither see nor answer it; a late answer changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { fakeClock, type FakeClock } from '../src/platform/clock.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { connectTestSocket, type TestSocket } from '../src/platform/realtime/testing.ts';
import { accounts, approvalRequests, cards, gatewayCallbacks } from '../src/bank/storage/schema.ts';
import { DEMO_CARDHOLDER, SHORT_APPROVAL_TIMEOUT_SECONDS } from '../src/bank/storage/seed-demo.ts';
import {
  authorizationBody,
  cardOf,
  createTestCardholder,
  logIn,
  randomCardNumber,
  startTestBank,
  type TestBank,
} from '../src/bank/testing.ts';

const wsUrl = (url: string) => `${url.replace('http', 'ws')}/ws`;

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const engine of testEngines()) {
  describe(`bank app approvals (${engine})`, () => {
    let t: TestBank;
    let clock: FakeClock;
    let demo: { cookie: string; csrf: string };
    let socket: TestSocket;
    let cardholderId: string;
    const sockets: TestSocket[] = [];

    before(async () => {
      clock = fakeClock(Date.UTC(2026, 5, 1, 12));
      t = await startTestBank(engine, { clock });
      demo = await logIn(t.url, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
      const [card] = await t.bank.database.db
        .select()
        .from(cards)
        .where(eq(cards.number, cardOf('requires_approval')));
      cardholderId = card!.cardholderId;
      socket = await connectTestSocket(wsUrl(t.url), { headers: { cookie: demo.cookie } });
      sockets.push(socket);
      socket.send({ type: 'join', room: `cardholder:${cardholderId}` });
      await socket.next((f) => f.type === 'joined');
    });
    after(async () => {
      for (const s of sockets) await s.close();
      await t?.close();
    });

    const answer = (id: string, what: 'approve' | 'decline', who = demo) =>
      fetch(`${t.url}/app/approvals/${id}/${what}`, {
        method: 'POST',
        headers: { cookie: who.cookie, 'x-csrf-token': who.csrf, accept: 'application/json' },
      });

    async function requestApproval(card = cardOf('requires_approval'), minor = '4200') {
      const body = authorizationBody(card, {
        amount: { minor, currency: 'EUR' },
        merchant: { name: 'Fjord Outfitters' },
      });
      const res = await t.gateway('POST', '/api/v1/authorizations', body);
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'pending');
      const frame = await socket.next(
        (f) =>
          f.type === 'message' &&
          (f.payload as any).type === 'approval.requested' &&
          (f.payload as any).approval.merchant === 'Fjord Outfitters' &&
          (f.payload as any).approval.amount.minor === minor,
      );
      return { auth: res.body, approval: (frame as any).payload.approval, body };
    }

    it('pushes an approval request with merchant, amount and deadline to the cardholder, holding the amount', async () => {
      const [account0] = await t.bank.database.db
        .select()
        .from(accounts)
        .where(eq(accounts.cardholderId, cardholderId));
      const { auth, approval } = await requestApproval(cardOf('requires_approval'), '4201');
      assert.equal(approval.amountText, '€42.01');
      assert.equal(new Date(approval.expiresAt).getTime() - clock.now().getTime(), 120_000);
      assert.equal(auth.approval_expires_at, approval.expiresAt);
      const [account1] = await t.bank.database.db.select().from(accounts).where(eq(accounts.id, account0!.id));
      assert.equal(account1!.heldMinor - account0!.heldMinor, 4201n);
      const page = await (await fetch(`${t.url}/app`, { headers: { cookie: demo.cookie } })).text();
      assert.ok(page.includes(approval.id) && page.includes('Fjord Outfitters') && page.includes('€42.01'));
    });

    it('approves once: the gateway gets a signed authorization.approved callback, a second answer is refused', async () => {
      const { auth, approval } = await requestApproval();
      const res = await answer(approval.id, 'approve');
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { id: approval.id, status: 'approved' });
      const callback = await t.callbacks.next((b) => b.authorization_id === auth.id);
      assert.match(String(callback.callback_id), /^bcb_/);
      assert.deepEqual(callback, {
        callback_id: callback.callback_id,
        type: 'authorization.approved',
        authorization_id: auth.id,
        gateway_ref: auth.gateway_ref,
      });
      await socket.next(
        (f) =>
          f.type === 'message' &&
          (f.payload as any).type === 'approval.resolved' &&
          (f.payload as any).approvalId === approval.id,
      );
      assert.equal((await t.gateway('GET', `/api/v1/authorizations/${auth.id}`)).body.status, 'approved');
      const again = await answer(approval.id, 'decline');
      assert.equal(again.status, 409);
      assert.equal(((await again.json()) as any).error.code, 'approval.already_answered');
      assert.equal((await t.gateway('GET', `/api/v1/authorizations/${auth.id}`)).body.status, 'approved');
    });

    it('declines: the hold is released and the gateway hears approval_declined', async () => {
      const [before] = await t.bank.database.db.select().from(accounts).where(eq(accounts.cardholderId, cardholderId));
      const { auth, approval } = await requestApproval();
      assert.equal((await answer(approval.id, 'decline')).status, 200);
      const callback = await t.callbacks.next((b) => b.authorization_id === auth.id);
      assert.equal(callback.type, 'authorization.declined');
      assert.equal(callback.decline_reason, 'approval_declined');
      const [after] = await t.bank.database.db.select().from(accounts).where(eq(accounts.id, before!.id));
      assert.equal(after!.heldMinor, before!.heldMinor);
    });

    it('refuses an answer without the CSRF token and changes nothing', async () => {
      const { auth, approval } = await requestApproval();
      const res = await fetch(`${t.url}/app/approvals/${approval.id}/approve`, {
        method: 'POST',
        headers: { cookie: demo.cookie, 'x-csrf-token': 'wrong' },
      });
      assert.equal(res.status, 403);
      const [row] = await t.bank.database.db
        .select()
        .from(approvalRequests)
        .where(eq(approvalRequests.id, approval.id));
      assert.equal(row!.status, 'pending');
      assert.equal((await t.gateway('GET', `/api/v1/authorizations/${auth.id}`)).body.status, 'pending');
      await answer(approval.id, 'decline');
    });

    it("hides a cardholder's request from another cardholder: 404 on answer, refused join, absent from their page", async () => {
      const other = await createTestCardholder(t, {
        cards: [{ number: randomCardNumber(), account: 0, policy: 'standard', label: 'x' }],
      });
      const otherLogin = await logIn(t.url, other.email, other.password);
      const { auth, approval } = await requestApproval();
      const res = await answer(approval.id, 'approve', otherLogin);
      assert.equal(res.status, 404);
      const page = await (await fetch(`${t.url}/app`, { headers: { cookie: otherLogin.cookie } })).text();
      assert.ok(!page.includes(approval.id));
      const spy = await connectTestSocket(wsUrl(t.url), { headers: { cookie: otherLogin.cookie } });
      sockets.push(spy);
      spy.send({ type: 'join', room: `cardholder:${cardholderId}` });
      const refused = await spy.next((f) => f.type === 'error');
      assert.equal((refused as any).code, 'access.denied');
      const anonymous = await connectTestSocket(wsUrl(t.url));
      sockets.push(anonymous);
      anonymous.send({ type: 'join', room: `cardholder:${cardholderId}` });
      assert.equal(((await anonymous.next((f) => f.type === 'error')) as any).code, 'access.denied');
      // The cardholder's own cookie, but from another site's page (cross-site WebSocket hijacking).
      const crossSite = await connectTestSocket(wsUrl(t.url), {
        headers: { cookie: demo.cookie, origin: 'http://evil.test' },
      });
      sockets.push(crossSite);
      crossSite.send({ type: 'join', room: `cardholder:${cardholderId}` });
      assert.equal(((await crossSite.next((f) => f.type === 'error')) as any).code, 'access.denied');
      assert.equal((await t.gateway('GET', `/api/v1/authorizations/${auth.id}`)).body.status, 'pending');
      await answer(approval.id, 'decline');
    });

    it('expires an unanswered request: declined with approval_expired, hold released, a late approval changes nothing', async () => {
      const [before] = await t.bank.database.db.select().from(accounts).where(eq(accounts.cardholderId, cardholderId));
      const { auth, approval } = await requestApproval(cardOf('approval_timeout'), '999');
      assert.equal(
        new Date(approval.expiresAt).getTime() - clock.now().getTime(),
        SHORT_APPROVAL_TIMEOUT_SECONDS * 1000,
      );
      clock.advance(SHORT_APPROVAL_TIMEOUT_SECONDS * 1000);
      const late = await answer(approval.id, 'approve');
      assert.equal(late.status, 409);
      const callback = await t.callbacks.next((b) => b.authorization_id === auth.id);
      assert.equal(callback.type, 'authorization.declined');
      assert.equal(callback.decline_reason, 'approval_expired');
      const afterLate = await answer(approval.id, 'approve');
      assert.equal(afterLate.status, 409);
      assert.equal(((await afterLate.json()) as any).error.code, 'approval.expired');
      const got = await t.gateway('GET', `/api/v1/authorizations/${auth.id}`);
      assert.deepEqual([got.body.status, got.body.decline_reason], ['declined', 'approval_expired']);
      const [after] = await t.bank.database.db.select().from(accounts).where(eq(accounts.id, before!.id));
      assert.equal(after!.heldMinor, before!.heldMinor);
      assert.equal(t.callbacks.received.filter((r) => r.body.authorization_id === auth.id).length, 1);
    });

    it('approves a processing-delay authorisation when its timer fires, and tells the gateway', async () => {
      const res = await t.gateway('POST', '/api/v1/authorizations', authorizationBody(cardOf('processing_delay')));
      assert.equal(res.body.status, 'pending');
      clock.advance(2_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await t.gateway('GET', `/api/v1/authorizations/${res.body.id}`)).body.status, 'pending');
      clock.advance(1_000);
      const callback = await t.callbacks.next((b) => b.authorization_id === res.body.id);
      assert.equal(callback.type, 'authorization.approved');
    });

    it('voiding a pending authorisation withdraws the request from the app and releases the hold', async () => {
      const { auth, approval } = await requestApproval();
      const voided = await t.gateway('POST', `/api/v1/authorizations/${auth.id}/void`, {});
      assert.equal(voided.body.status, 'voided');
      const resolved = await socket.next((f) => f.type === 'message' && (f.payload as any).approvalId === approval.id);
      assert.equal((resolved as any).payload.status, 'cancelled');
      assert.equal((await answer(approval.id, 'approve')).status, 409);
    });

    it('retries a callback the gateway failed to accept until it is delivered', async () => {
      t.callbacks.status = 500;
      try {
        const { auth, approval } = await requestApproval();
        await answer(approval.id, 'approve');
        const attempted = await until(async () => {
          const [row] = await t.bank.database.db
            .select()
            .from(gatewayCallbacks)
            .where(eq(gatewayCallbacks.authorizationId, auth.id));
          return row && row.attempts >= 1 ? row : undefined;
        });
        assert.equal(attempted.status, 'pending');
        t.callbacks.status = 200;
        clock.advance(5_000);
        const callback = await t.callbacks.next((b) => b.authorization_id === auth.id);
        assert.equal(callback.type, 'authorization.approved');
        const delivered = await until(async () => {
          const [row] = await t.bank.database.db
            .select()
            .from(gatewayCallbacks)
            .where(eq(gatewayCallbacks.authorizationId, auth.id));
          return row?.status === 'delivered' ? row : undefined;
        });
        assert.ok(delivered.attempts >= 2);
        // Each attempt is a new signed request (the gateway consumes every id it verified); the callback keeps its id.
        const tries = t.callbacks.attempts.filter((a) => a.callbackId === delivered.id);
        assert.ok(tries.length >= 2, JSON.stringify(tries));
        assert.equal(new Set(tries.map((a) => a.requestId)).size, tries.length, 'a new request id per attempt');
      } finally {
        t.callbacks.status = 200;
      }
    });
  });
}
