// The dashboard's screens over HTTP against a real gateway, as a signed-up merchant uses them:
// payments search, filters and paging, a payment's timeline, the event log with re-send, API keys
// (create, revoke, roll with an overlap), webhook endpoints (URL, disable, a signed test event) and
// fault injection (the API's rules).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyWebhook } from '../src/core/webhook-signature.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { DashboardClient } from './support/dashboard-client.ts';
import { APPROVED_CARD, cardDetails } from './support/factories.ts';

const DECLINED_CARD = '4000000000000002';

for (const engine of testEngines()) {
  describe(`gateway dashboard screens (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let hook: Awaited<ReturnType<typeof webhookReceiver>>;
    let me: DashboardClient;
    let key = '';
    let secret = '';
    const ids: string[] = [];
    const pay = (id: string, card: string) =>
      fetch(`${gw.url}/pay/${id}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cardDetails(card, { name: 'A Payer' })),
      });

    before(async () => {
      hook = await webhookReceiver();
      gw = await startTestGateway(engine);
      me = new DashboardClient(gw.url);
      const up = await me.signUp({
        email: 'screens@shop.example',
        password: 'screens password 1',
        business_name: 'Screens shop',
        webhook_url: hook.url,
      });
      key = up.apiKey!;
      secret = up.secret!;
      for (let i = 0; i < 27; i++) {
        const res = await gw.api('/v1/payment_sessions', {
          key,
          body: { amount: { minor: String(1000 + i), currency: 'EUR' }, merchant_reference: `order-${i}` },
        });
        ids.push(((await res.json()) as { id: string }).id);
      }
      await pay(ids[26]!, APPROVED_CARD);
      await pay(ids[25]!, DECLINED_CARD);
      await eventually(() => (hook.eventsFor(ids[26]!).some((e) => e.type === 'payment.captured') ? true : undefined));
    });
    after(async () => {
      await gw?.stop();
      await hook?.close();
    });

    it('pages payments newest first by keyset, 25 a page, with human times', async () => {
      const first = await me.text('/dashboard');
      assert.ok(first.includes(ids[26]!) && !first.includes(ids[0]!));
      assert.match(first, /\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC/);
      assert.match(first, /just now/);
      const older = /href="(\/dashboard\?[^"]*after=[^"]+)"/.exec(first)![1]!.replace(/&amp;/g, '&');
      const second = await me.text(older);
      assert.ok(second.includes(ids[0]!) && second.includes(ids[1]!) && !second.includes(ids[26]!));
    });

    it('finds a payment by session id, PaymentIntent id, reference and amount, and filters by status and date', async () => {
      const find = (qs: string) => me.text(`/dashboard?${qs}`);
      const count = (html: string) => new Set(html.match(/ps_[0-9A-Z]{26}/g) ?? []).size;
      const byId = await find(`q=${ids[3]}`);
      assert.equal(count(byId), 1);
      assert.ok(byId.includes(ids[3]!));
      assert.ok((await find(`q=pi_${ids[4]!.slice(3)}`)).includes(ids[4]!));
      const byRef = await find('q=order-12');
      assert.deepEqual([count(byRef), byRef.includes(ids[12]!)], [1, true]);
      const byAmount = await find('q=10.07');
      assert.deepEqual([count(byAmount), byAmount.includes(ids[7]!)], [1, true]);
      const declined = await find('status=declined');
      assert.deepEqual([count(declined), declined.includes(ids[25]!)], [1, true]);
      assert.equal(count(await find('from=2001-01-01&to=2001-01-02')), 0);
      assert.equal((await me.get("/dashboard?q=%25'%20or%201%3D1&status=nonsense&after=junk")).status, 200);
    });

    it("shows a payment's timeline in time order: created, authorised, events, each delivery attempt, acknowledgement", async () => {
      const html = await me.text(`/dashboard/payments/${ids[26]}`);
      const timeline = html.slice(html.indexOf('<ol class="timeline">'), html.indexOf('</ol>'));
      const order = [
        'Payment created',
        'Authorised by the bank',
        'Event payment.authorized',
        'Webhook payment.authorized: attempt #1 → 200',
        'Acknowledgement: acknowledged',
        'Event payment.captured',
      ].map((s) => timeline.indexOf(s));
      assert.ok(
        order.every((i) => i >= 0),
        `all steps shown: ${order.join(',')}`,
      );
      assert.deepEqual(
        [...order].sort((x, y) => x - y),
        order,
        'in time order',
      );
      assert.match(timeline, /\d+ ms · http:\/\/127\.0\.0\.1/);
    });

    it('lists events with a type filter, and re-sends a delivery from the log', async () => {
      const all = await me.text('/dashboard/events');
      assert.ok(all.includes('payment.captured') && all.includes('payment.declined'));
      const captured = await me.text('/dashboard/events?type=payment.captured');
      assert.ok(captured.includes('<td>payment.captured</td>') && !captured.includes('<td>payment.declined</td>'));
      const delivery = /action="\/dashboard\/deliveries\/(whd_[0-9A-Z]+)\/resend"/.exec(captured)![1]!;
      const before = hook.received.length;
      const res = await me.post(`/dashboard/deliveries/${delivery}/resend`, { back: 'events' }, { csrf: true });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/dashboard/events');
      await eventually(() => (hook.received.length > before ? true : undefined));
    });

    it('creates, rolls (old key kept for the overlap, or stopped now) and revokes API keys', async () => {
      const made = await (await me.post('/dashboard/settings/keys', {}, { csrf: true })).text();
      const created = /<code>(sk_test_[^<]+)<\/code>/.exec(made)![1]!;
      assert.equal((await gw.api('/v1/events?limit=1', { key: created })).status, 200);
      const keyId = async (k: string) => {
        const html = await me.text('/dashboard/settings');
        const at = html.indexOf(`${k.slice(0, 12)}…${k.slice(-4)}`);
        return /\/dashboard\/settings\/keys\/(key_[0-9A-Z]+)\/roll/.exec(html.slice(at))![1]!;
      };
      const rolled = await (
        await me.post(`/dashboard/settings/keys/${await keyId(created)}/roll`, { overlap: '3600' }, { csrf: true })
      ).text();
      const fresh = /<code>(sk_test_[^<]+)<\/code>/.exec(rolled)![1]!;
      assert.equal(
        (await gw.api('/v1/events?limit=1', { key: created })).status,
        200,
        'the old key works during the overlap',
      );
      assert.equal((await gw.api('/v1/events?limit=1', { key: fresh })).status, 200);
      assert.match(rolled, /stops/);
      const now = await (
        await me.post(`/dashboard/settings/keys/${await keyId(fresh)}/roll`, { overlap: '0' }, { csrf: true })
      ).text();
      const third = /<code>(sk_test_[^<]+)<\/code>/.exec(now)![1]!;
      assert.equal(
        (await gw.api('/v1/events?limit=1', { key: fresh })).status,
        401,
        'rolled with no overlap: stopped now',
      );
      assert.equal(
        (await me.post(`/dashboard/settings/keys/${await keyId(third)}/revoke`, {}, { csrf: true })).status,
        303,
      );
      assert.equal((await gw.api('/v1/events?limit=1', { key: third })).status, 401);
      assert.equal(
        (await me.post(`/dashboard/settings/keys/${await keyId(key)}/roll`, { overlap: '7' }, { csrf: true })).status,
        422,
      );
    });

    it('edits the endpoint URL by the webhook URL rule, sends a signed test event, and disables deliveries', async () => {
      assert.equal(
        (await me.post('/dashboard/webhooks/endpoint', { url: 'http://192.168.1.10/x' }, { csrf: true })).status,
        422,
      );
      assert.equal((await me.post('/dashboard/webhooks/endpoint', { url: hook.url }, { csrf: true })).status, 303);
      const before = hook.received.length;
      const sent = await (await me.post('/dashboard/webhooks/test', {}, { csrf: true })).text();
      assert.match(sent, /answered 200 in \d+ ms/);
      const test = hook.received.slice(before).find((r) => r.body.toString().includes('webhook.test'))!;
      const headers = Object.fromEntries(Object.entries(test.headers).map(([k, v]) => [k, String(v)]));
      verifyWebhook({ headers, body: test.body, secrets: [secret], now: new Date() });
      assert.equal((await me.post('/dashboard/settings/webhooks/disable', {}, { csrf: true })).status, 303);
      assert.match(await me.text('/dashboard'), /Webhook deliveries are disabled/);
      assert.equal((await me.post('/dashboard/settings/webhooks/enable', {}, { csrf: true })).status, 303);
    });

    it('sets fault injection by the API rules, refuses a rate above 1 unchanged, and clears it', async () => {
      const faults = async () =>
        (await (await gw.api('/v1/admin/fault_injection', { key })).json()) as {
          enabled: boolean;
          seed: string;
          config: { webhooks: { drop: number } };
        };
      const set = await me.post(
        '/dashboard/faults',
        { enabled: 'on', seed: 'seed-1', 'webhooks.drop': '0.25' },
        { csrf: true },
      );
      assert.equal(set.status, 303);
      assert.deepEqual([(await faults()).enabled, (await faults()).config.webhooks.drop], [true, 0.25]);
      const bad = await me.post(
        '/dashboard/faults',
        { enabled: 'on', seed: 'seed-2', 'webhooks.drop': '2' },
        { csrf: true },
      );
      assert.equal(bad.status, 422);
      assert.equal((await faults()).seed, 'seed-1');
      await me.post('/dashboard/faults/clear', {}, { csrf: true });
      assert.equal((await faults()).enabled, false);
    });
  });
}
