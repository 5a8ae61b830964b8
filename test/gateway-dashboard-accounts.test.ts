// Merchant accounts on the gateway's dashboard, over HTTP against a real gateway: sign-up makes a
// merchant with a working test key shown once; e-mail and password login with the same answer for
// an unknown e-mail and a wrong password, a failed-login limit, and a new session at every login;
// teams with owner-only actions; and merchant B never reaching merchant A's objects (404).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { DEMO_DASHBOARD_OWNER } from '../src/gateway/domain/dashboard-account.rule.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { DashboardClient } from './support/dashboard-client.ts';
import { APPROVED_CARD, cardDetails } from './support/factories.ts';

const PASSWORD = 'correct horse battery';

for (const engine of testEngines()) {
  describe(`gateway dashboard accounts (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;
    let aSession = '';
    let aDelivery = '';
    const b = () => new DashboardClient(gw.url);
    let owner: DashboardClient;
    let bKey = '';

    before(async () => {
      shop = await webhookReceiver();
      gw = await startTestGateway(engine, { webhookUrl: shop.url });
      const res = await gw.api('/v1/payment_sessions', {
        body: { amount: { minor: '4200', currency: 'EUR' }, merchant_reference: 'a-secret-order' },
      });
      aSession = ((await res.json()) as { id: string }).id;
      await fetch(`${gw.url}/pay/${aSession}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cardDetails(APPROVED_CARD, { name: 'A Payer' })),
      });
      await eventually(() => (shop.eventsFor(aSession).some((e) => e.type === 'payment.captured') ? true : undefined));
      aDelivery = (
        await rows<{ id: string }>(gw.database.db, sql`select id from webhook_deliveries order by created_at limit 1`)
      )[0]!.id;
    });
    after(async () => {
      await gw?.stop();
      await shop?.close();
    });

    it('signs up a merchant: its test key is shown once and works on /v1, and the owner is logged in', async () => {
      owner = b();
      const { res, html, apiKey, secret } = await owner.signUp({
        email: 'Owner@B.example',
        password: PASSWORD,
        business_name: 'Merchant B',
      });
      assert.equal(res.status, 201);
      assert.ok(apiKey && secret, 'the key and the signing secret are shown');
      assert.match(res.headers.get('set-cookie') ?? '', /^gw_session=.*HttpOnly.*SameSite=Strict/);
      assert.ok(html.includes('Merchant B'));
      bKey = apiKey;
      assert.equal((await gw.api('/v1/events?limit=1', { key: apiKey })).status, 200);
      const keys = await owner.text('/dashboard/settings');
      assert.ok(!keys.includes(apiKey), 'the key is not shown again');
      assert.ok(keys.includes(`${apiKey.slice(0, 12)}…${apiKey.slice(-4)}`), 'the list shows its prefix and last 4');
      assert.ok(!(await owner.text('/dashboard')).includes(aSession), "B sees none of A's payments");
    });

    it('refuses a second sign-up with the same e-mail in another case, a short password and a private webhook URL', async () => {
      const before = await rows<{ n: number }>(gw.database.db, sql`select count(*)::int as n from merchants`);
      const again = await b().signUp({ email: ' owner@b.EXAMPLE', password: PASSWORD, business_name: 'Copy' });
      assert.equal(again.res.status, 409);
      assert.equal(again.apiKey, undefined);
      const short = await b().signUp({ email: 'c@c.example', password: 'elevenchars', business_name: 'C' + 'c' });
      assert.equal(short.res.status, 422);
      assert.match(short.html, /at least 12 characters/);
      const privateUrl = await b().signUp({
        email: 'd@d.example',
        password: PASSWORD,
        business_name: 'D shop',
        webhook_url: 'http://10.0.0.5/hook',
      });
      assert.equal(privateUrl.res.status, 422);
      const after = await rows<{ n: number }>(gw.database.db, sql`select count(*)::int as n from merchants`);
      assert.equal(after[0]!.n, before[0]!.n, 'no merchant was made');
      assert.ok(!again.html.includes(PASSWORD) && !short.html.includes('elevenchars'), 'a password is never echoed');
    });

    it('shows a hostile business name back as text', async () => {
      const c = b();
      const { res, html } = await c.signUp({
        email: 'xss@b.example',
        password: PASSWORD,
        business_name: '<script>alert(1)</script> & Co',
      });
      assert.equal(res.status, 201);
      assert.ok(!html.includes('<script>alert(1)') && html.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co'));
    });

    it('logs in by e-mail and password, with the same answer for an unknown e-mail and a wrong password', async () => {
      const unknown = await b().logIn('nobody@b.example', PASSWORD);
      const wrong = await b().logIn('owner@b.example', 'wrong password here');
      assert.equal(unknown.status, 401);
      assert.equal(wrong.status, 401);
      const message = (html: string) => /role="alert">([^<]+)</.exec(html)?.[1];
      assert.equal(message(await unknown.text()), message(await wrong.text()));
      assert.equal(unknown.headers.get('set-cookie'), null);
      const ok = await b().logIn('OWNER@b.example', PASSWORD);
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.get('location'), '/dashboard');
    });

    it('opens a new session at every login: a planted or previous session id is never the logged-in one', async () => {
      const c = b();
      c.cookie = 'gw_session=planted-by-an-attacker';
      await c.logIn('owner@b.example', PASSWORD);
      assert.notEqual(c.cookie, 'gw_session=planted-by-an-attacker');
      const first = c.cookie;
      assert.equal((await c.get('/dashboard')).status, 200);
      await c.logIn('owner@b.example', PASSWORD);
      assert.notEqual(c.cookie, first);
      const stale = new DashboardClient(gw.url);
      stale.cookie = first;
      assert.equal((await stale.get('/dashboard')).status, 303, 'the previous session was closed');
    });

    it('limits failed logins per account: past 5, even the right password is refused for a while', async () => {
      await b().signUp({ email: 'limited@b.example', password: PASSWORD, business_name: 'Limited' });
      for (let i = 0; i < 5; i++)
        assert.equal((await b().logIn('limited@b.example', `wrong-password-${i}`)).status, 401);
      const refused = await b().logIn('limited@b.example', PASSWORD);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('set-cookie'), null);
    });

    it('the demo merchant has a seeded owner who logs in by e-mail', async () => {
      const a = b();
      assert.equal((await a.logIn(DEMO_DASHBOARD_OWNER.email, DEMO_DASHBOARD_OWNER.password)).status, 303);
      assert.ok((await a.text('/dashboard')).includes(aSession));
    });

    it("B's session finds none of A's objects: payment, delivery, key, endpoint, user, event (404, nothing changed)", async () => {
      const [aKey] = await rows<{ id: string }>(
        gw.database.db,
        sql`select id from api_keys where merchant_id <> (select merchant_id from dashboard_users where email = 'owner@b.example') and revoked_at is null limit 1`,
      );
      const [aUser] = await rows<{ id: string }>(
        gw.database.db,
        sql`select id from dashboard_users where email = ${DEMO_DASHBOARD_OWNER.email}`,
      );
      const created = await gw.api('/v1/webhook_endpoints', {
        key: 'sk_test_gatewaystripekey0123456789abcd',
        body: 'url=https%3A%2F%2Fshop.example%2Fhook&enabled_events[]=*',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      const aEndpoint = ((await created.json()) as { id: string }).id;
      assert.equal((await owner.get(`/dashboard/payments/${aSession}`)).status, 404);
      const attempts = async () =>
        (
          await rows<{ n: number }>(
            gw.database.db,
            sql`select count(*)::int as n from webhook_deliveries where id = ${aDelivery} and status = 'pending'`,
          )
        )[0]!.n;
      for (const [path, form] of [
        [`/dashboard/deliveries/${aDelivery}/resend`, {}],
        [`/dashboard/settings/keys/${aKey!.id}/revoke`, {}],
        [`/dashboard/settings/keys/${aKey!.id}/roll`, { overlap: '0' }],
        [`/dashboard/webhooks/${aEndpoint}`, { url: 'https://evil.example/hook' }],
        [`/dashboard/webhooks/${aEndpoint}/disable`, {}],
        [`/dashboard/team/${aUser!.id}/remove`, {}],
      ] as const)
        assert.equal((await owner.post(path, form, { csrf: true })).status, 404, path);
      assert.equal(await attempts(), 0, "A's delivery was not re-sent");
      assert.equal((await gw.api('/v1/events?limit=1')).status, 200, "A's key still works");
      const endpoint = await rows<{ url: string; status: string }>(
        gw.database.db,
        sql`select url, status from webhook_endpoints where id = ${aEndpoint}`,
      );
      assert.deepEqual(endpoint[0], { url: 'https://shop.example/hook', status: 'enabled' });
      const team = await owner.text('/dashboard/team');
      assert.ok(!team.includes(DEMO_DASHBOARD_OWNER.email), "B's team lists no one of A's");
      const events = await owner.text('/dashboard/events');
      assert.ok(!events.includes(aSession), "B's event log has none of A's events");
      await owner.post('/dashboard/faults', { enabled: 'on', seed: 'b-seed', 'api.fail': '1' }, { csrf: true });
      const aFaults = (await (await gw.api('/v1/admin/fault_injection')).json()) as { enabled: boolean };
      assert.equal(aFaults.enabled, false, "B's faults are not A's");
      const bFaults = (await (await gw.api('/v1/admin/fault_injection', { key: bKey })).json()) as {
        enabled: boolean;
        config: { api: { fail: number } };
      };
      assert.deepEqual([bFaults.enabled, bFaults.config.api.fail], [true, 1], 'B set its own faults');
      assert.equal((await gw.api('/v1/events?limit=1', { key: bKey })).status, 502, "B's own API fails as B asked");
      assert.equal((await gw.api('/v1/events?limit=1')).status, 200, "A's does not");
      await owner.post('/dashboard/faults/clear', {}, { csrf: true });
    });

    it('an owner adds a member, who reads the dashboard but cannot manage keys, webhooks, faults or the team', async () => {
      const added = await owner.post(
        '/dashboard/team',
        { email: 'member@b.example', password: 'member password 1', role: 'member' },
        { csrf: true },
      );
      assert.equal(added.status, 201);
      const member = b();
      assert.equal((await member.logIn('member@b.example', 'member password 1')).status, 303);
      assert.equal((await member.get('/dashboard/settings')).status, 200);
      const keysBefore = await rows<{ n: number }>(gw.database.db, sql`select count(*)::int as n from api_keys`);
      for (const [path, form] of [
        ['/dashboard/settings/keys', {}],
        ['/dashboard/settings/secrets/rotate', {}],
        ['/dashboard/webhooks/endpoint', { url: 'https://member.example/hook' }],
        ['/dashboard/faults', { seed: 'x' }],
        ['/dashboard/team', { email: 'third@b.example', password: 'third password 1', role: 'owner' }],
      ] as const)
        assert.equal((await member.post(path, form, { csrf: true })).status, 403, path);
      const keysAfter = await rows<{ n: number }>(gw.database.db, sql`select count(*)::int as n from api_keys`);
      assert.equal(keysAfter[0]!.n, keysBefore[0]!.n);
      assert.equal((await b().logIn('third@b.example', 'third password 1')).status, 401, 'no user was added');
      // Removed, the member's open session ends at once.
      const [m] = await rows<{ id: string }>(
        gw.database.db,
        sql`select id from dashboard_users where email = 'member@b.example'`,
      );
      assert.equal((await owner.post(`/dashboard/team/${m!.id}/remove`, {}, { csrf: true })).status, 303);
      assert.equal((await member.get('/dashboard')).status, 303);
    });

    it('refuses a POST without the CSRF token or from another origin, and never logs a password or a key', async () => {
      const noToken = await owner.post('/dashboard/settings/keys', {});
      assert.equal(noToken.status, 403);
      const res = await fetch(`${gw.url}/dashboard/settings/keys`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://evil.example',
          cookie: owner.cookie,
        },
        body: new URLSearchParams({ csrf: await owner.csrf() }),
      });
      assert.equal(res.status, 403);
      const log = gw.logs.lines.join('\n');
      assert.ok(!log.includes(PASSWORD) && !log.includes('member password 1'), 'no password in the log');
      assert.ok(!log.includes(bKey), 'no API key in the log');
    });
  });
}

describe('gateway dashboard with sign-up off', () => {
  it('GATEWAY_SIGNUP=off: no sign-up form, and a sign-up POST makes nothing', async () => {
    const gw = await startTestGateway('pglite', { env: { GATEWAY_SIGNUP: 'off' } });
    try {
      const c = new DashboardClient(gw.url);
      assert.equal((await c.get('/dashboard/signup')).status, 404);
      assert.ok(!(await c.text('/dashboard/login')).includes('/dashboard/signup'));
      const res = await c.signUp({ email: 'x@x.example', password: PASSWORD, business_name: 'X shop' });
      assert.equal(res.res.status, 404);
      const n = await rows<{ n: number }>(
        gw.database.db,
        sql`select count(*)::int as n from dashboard_users where email = 'x@x.example'`,
      );
      assert.equal(n[0]!.n, 0);
    } finally {
      await gw.stop();
    }
  });
});
