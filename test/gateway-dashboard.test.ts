// The merchant dashboard over HTTP on both engines: login with an API key sets gw_session
// (HttpOnly, SameSite=Strict); payments with events and delivery attempts; re-send; API key creation
// and secret rotation (at most two active) shown once; CSRF token and origin checks on every POST.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { eventually, startTestGateway, TEST_API_KEY, webhookReceiver } from '../src/gateway/testing.ts';
import { APPROVED_CARD, cardDetails } from './support/factories.ts';

const card = cardDetails(APPROVED_CARD, { name: 'A Payer' });

for (const engine of testEngines()) {
  describe(`gateway dashboard (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;
    let cookie = '';
    let sessionId = '';
    before(async () => {
      shop = await webhookReceiver();
      gw = await startTestGateway(engine, { webhookUrl: shop.url });
      const res = await gw.api('/v1/payment_sessions', {
        body: { amount: { minor: '1234', currency: 'EUR' }, merchant_reference: 'dash-1' },
      });
      sessionId = ((await res.json()) as { id: string }).id;
      await fetch(`${gw.url}/pay/${sessionId}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(card),
      });
      await eventually(() => (shop.eventsFor(sessionId).some((e) => e.type === 'payment.captured') ? true : undefined));
    });
    after(async () => {
      await gw?.stop();
      await shop?.close();
    });

    const page = (path: string, init: RequestInit = {}) =>
      fetch(`${gw.url}${path}`, {
        redirect: 'manual',
        ...init,
        headers: { cookie, ...(init.headers as Record<string, string>) },
      });
    const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      page(path, {
        method: 'POST',
        body: new URLSearchParams(form),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
    const csrfOf = async () => /name="csrf" value="([^"]+)"/.exec(await (await page('/dashboard')).text())![1]!;

    it('sends anonymous visitors to the login page and refuses a wrong key', async () => {
      const res = await page('/dashboard');
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/dashboard/login');
      const bad = await post('/dashboard/login', { api_key: 'sk_test_notakeynotakeynotakey' });
      assert.equal(bad.status, 401);
      assert.equal(bad.headers.get('set-cookie'), null);
    });

    it('logs in with the API key: gw_session is HttpOnly and SameSite=Strict, and the payments list shows the payment', async () => {
      const res = await post('/dashboard/login', { api_key: TEST_API_KEY });
      assert.equal(res.status, 303);
      const set = res.headers.get('set-cookie') ?? '';
      assert.match(set, /^gw_session=/);
      assert.match(set, /HttpOnly/);
      assert.match(set, /SameSite=Strict/);
      cookie = set.split(';')[0]!;
      const list = await page('/dashboard');
      assert.equal(list.status, 200);
      assert.match(list.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const html = await list.text();
      assert.ok(html.includes(sessionId));
      assert.ok(html.includes('captured'));
    });

    it('shows a payment with its events and every delivery attempt, and re-sends a delivery', async () => {
      const html = await (await page(`/dashboard/payments/${sessionId}`)).text();
      assert.ok(html.includes('payment.authorized') && html.includes('payment.captured'));
      assert.match(html, /#1 200 · \d+ ms/);
      const deliveryId = /action="\/dashboard\/deliveries\/(whd_[0-9A-Z]+)\/resend"/.exec(html)![1]!;
      const before = shop.received.length;
      const res = await post(`/dashboard/deliveries/${deliveryId}/resend`, { csrf: await csrfOf(), back: sessionId });
      assert.equal(res.status, 303);
      await eventually(() => (shop.received.length > before ? true : undefined));
      const other = await page('/dashboard/payments/ps_01JAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(other.status, 404);
    });

    it('refuses POSTs without the CSRF token or from another origin', async () => {
      assert.equal((await post('/dashboard/settings/secrets/rotate', {})).status, 403);
      assert.equal(
        (await post('/dashboard/settings/secrets/rotate', { csrf: await csrfOf() }, { origin: 'http://evil.test' }))
          .status,
        403,
      );
      const active = await rows<{ n: number }>(
        gw.database.db,
        sql`select count(*)::int as n from signing_secrets where retired_at is null`,
      );
      assert.equal(active[0]!.n, 1);
    });

    it('rotates the signing secret showing the new one once, keeping at most two active', async () => {
      const first = await (await post('/dashboard/settings/secrets/rotate', { csrf: await csrfOf() })).text();
      const secret = /<code>(whsec_[^<]+)<\/code>/.exec(first)![1]!;
      await post('/dashboard/settings/secrets/rotate', { csrf: await csrfOf() });
      const active = await rows<{ secret: string }>(
        gw.database.db,
        sql`select secret from signing_secrets where retired_at is null`,
      );
      assert.equal(active.length, 2);
      assert.ok(active.some((a) => a.secret === secret));
      const later = await (await page('/dashboard/settings')).text();
      assert.ok(!later.includes(secret), 'a secret is shown only once');
    });

    it('creates an API key that works on the API, shown once', async () => {
      const html = await (await post('/dashboard/settings/keys', { csrf: await csrfOf() })).text();
      const key = /<code>(sk_test_[^<]+)<\/code>/.exec(html)![1]!;
      assert.equal((await gw.api('/v1/events?limit=1', { key })).status, 200);
      assert.ok(!(await (await page('/dashboard/settings')).text()).includes(key));
    });

    it('logging out ends the session', async () => {
      const res = await post('/dashboard/logout', { csrf: await csrfOf() });
      assert.equal(res.status, 303);
      assert.equal((await page('/dashboard')).status, 303);
    });
  });
}
