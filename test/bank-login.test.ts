// Logging in to the bank app, on both engines: scrypt-checked passwords, an httpOnly SameSite
// session cookie, CSRF on the login form and on actions, a limit on failed logins.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { testEngines } from '../src/platform/db/testing.ts';
import { cardholders } from '../src/bank/storage/schema.ts';
import { DEMO_CARDHOLDER } from '../src/bank/storage/seed-demo.ts';
import { createTestCardholder, logIn, randomCardNumber, startTestBank, type TestBank } from '../src/bank/testing.ts';

for (const engine of testEngines()) {
  describe(`bank login (${engine})`, () => {
    let t: TestBank;
    before(async () => {
      t = await startTestBank(engine);
    });
    after(async () => {
      await t?.close();
    });

    it('logs the demo cardholder in with an httpOnly, SameSite session cookie and shows the app', async () => {
      const page = await fetch(`${t.url}/login`);
      const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
      const loginCookie = page.headers
        .getSetCookie()
        .find((c) => c.startsWith('bank_login_csrf='))!
        .split(';')[0]!;
      const res = await fetch(`${t.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: DEMO_CARDHOLDER.email, password: DEMO_CARDHOLDER.password, csrf }),
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/app');
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('bank_session='))!;
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Strict/i);
      const app = await fetch(`${t.url}/app`, { headers: { cookie: cookie.split(';')[0]! } });
      assert.equal(app.status, 200);
      const html = await app.text();
      assert.ok(html.includes(DEMO_CARDHOLDER.name));
      assert.ok(html.includes('€1,000,000.00'), 'the demo balance is shown');
      assert.ok(html.includes('4000 0025 0000 3155'), 'the demo cards are listed');
    });

    it('stores the password as an scrypt hash, never in clear', async () => {
      const [row] = await t.bank.database.db
        .select()
        .from(cardholders)
        .where(eq(cardholders.email, DEMO_CARDHOLDER.email));
      assert.match(row!.passwordHash, /^scrypt\$/);
      assert.ok(!row!.passwordHash.includes(DEMO_CARDHOLDER.password));
    });

    it('redirects to the login page without a session', async () => {
      const res = await fetch(`${t.url}/app`, { redirect: 'manual' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/login');
    });

    it('refuses a login form posted without its CSRF token', async () => {
      const res = await fetch(`${t.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: DEMO_CARDHOLDER.email, password: DEMO_CARDHOLDER.password }),
      });
      assert.equal(res.status, 403);
      assert.equal(
        res.headers.getSetCookie().some((c) => c.startsWith('bank_session=')),
        false,
      );
    });

    it('refuses a wrong password, then blocks the account after 5 failures even with the right one', async () => {
      const holder = await createTestCardholder(t, {
        cards: [{ number: randomCardNumber(), account: 0, policy: 'standard', label: 'x' }],
      });
      for (let i = 0; i < 5; i++) assert.equal((await logIn(t.url, holder.email, 'wrong password')).status, 401);
      assert.equal((await logIn(t.url, holder.email, holder.password)).status, 429);
      // Another cardholder is not locked out by someone else's failures.
      assert.equal((await logIn(t.url, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password)).status, 303);
    });

    it('checks at most 5 of 30 simultaneous attempts on one cardholder, so the right password sent last does not get in', async () => {
      const holder = await createTestCardholder(t, {
        cards: [{ number: randomCardNumber(), account: 0, policy: 'standard', label: 'x' }],
      });
      // One login form each, then every POST at once, the right password last.
      const forms: Array<{ cookie: string; csrf: string }> = [];
      for (let i = 0; i < 30; i++) {
        const page = await fetch(`${t.url}/login`);
        forms.push({
          csrf: /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!,
          cookie: page.headers
            .getSetCookie()
            .find((c) => c.startsWith('bank_login_csrf='))!
            .split(';')[0]!,
        });
      }
      const responses = await Promise.all(
        forms.map((f, i) =>
          fetch(`${t.url}/login`, {
            method: 'POST',
            redirect: 'manual',
            headers: { cookie: f.cookie, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              email: holder.email,
              password: i === 29 ? holder.password : `wrong password ${i}`,
              csrf: f.csrf,
            }),
          }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      const checked = statuses.filter((s) => s === 401 || s === 303).length;
      assert.equal(checked, 5, `checked ${checked}: ${statuses.join(' ')}`);
      assert.equal(statuses[29], 429, 'the right password, sent last, is refused unchecked');
    });

    it('logs out: the session no longer opens the app', async () => {
      const session = await logIn(t.url, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
      const out = await fetch(`${t.url}/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: session.csrf }),
      });
      assert.equal(out.status, 303);
      assert.equal(
        (await fetch(`${t.url}/app`, { headers: { cookie: session.cookie }, redirect: 'manual' })).status,
        303,
      );
    });
  });
}
