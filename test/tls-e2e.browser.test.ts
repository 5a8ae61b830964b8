// `npm start -- --tls` as a newcomer runs it: the launcher makes a local CA, the three services serve
// https with a certificate it signed and verify each other against it, and a real Chromium that trusts
// that CA (by its public key, --ignore-certificate-errors-spki-list: only this CA, not "any error")
// walks the checkout, pays on the hosted page and sees the invoice turn paid over wss.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { outboundFetch } from '../src/platform/http/outbound.ts';
import { spkiHash } from '../src/platform/dev-certificates.ts';
import { checkoutToHostedPage, launchBrowser, shopLogin, submitCard } from './support/browser.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { DEMO } from './support/factories.ts';

describe('npm start -- --tls', () => {
  let system: LaunchedSystem;
  let ca: string;
  let trusting: typeof fetch;

  before(async () => {
    system = await launchSystem({}, { tls: true });
    ca = readFileSync(system.caFile!, 'utf8');
    trusting = outboundFetch(ca);
  });

  after(() => system.stop());

  it('prints https URLs and how to trust its CA, and serves each service over https to a client that trusts that CA', async () => {
    const out = system.output.join('');
    assert.match(
      out,
      new RegExp(`HTTPS with a local CA made for this machine: ${system.caFile!.replace(/[.]/g, '\\.')}`),
    );
    assert.match(out, /open the shop at https:\/\//);
    for (const [name, url] of Object.entries(system.urls)) {
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/, name);
      const ready = await trusting(`${url}/readyz`);
      assert.equal(ready.status, 200, `${name} readyz`);
      assert.deepEqual(await ready.json(), { status: 'ready', service: name });
      assert.equal(ready.headers.get('strict-transport-security'), 'max-age=31536000', `${name} sends HSTS`);
      // Plain http on the same port is not served, and a client without the CA refuses the certificate.
      await assert.rejects(fetch(url.replace('https:', 'http:') + '/readyz'), `${name} answered plain http`);
      await assert.rejects(
        fetch(`${url}/readyz`),
        (err: Error) => /certificate/i.test(String((err.cause as Error)?.message ?? err.message)),
        `${name} certificate trusted without the CA`,
      );
    }
  });

  it('sets every cookie Secure over https: the shop and bank login cookies and the gateway dashboard session', async () => {
    const dashboard = await trusting(`${system.urls.gateway}/dashboard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ api_key: system.demoMerchantApiKey() }).toString(),
      redirect: 'manual',
    });
    assert.equal(dashboard.status, 303);
    const answers = {
      shop: await trusting(`${system.urls.shop}/login`),
      bank: await trusting(`${system.urls.bank}/login`),
      gateway: dashboard,
    };
    for (const [name, res] of Object.entries(answers)) {
      const cookies = res.headers.getSetCookie();
      assert.ok(cookies.length > 0, `${name} sets a cookie`);
      for (const cookie of cookies) assert.match(cookie, /;\s*Secure/i, `${name}: ${cookie}`);
    }
  });

  it('pays in Chromium over https: shop → gateway → bank → webhook back, and the invoice turns paid over wss', async () => {
    const { shop, gateway } = system.urls;
    const browser = await launchBrowser({ args: [`--ignore-certificate-errors-spki-list=${spkiHash(ca)}`] });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await shopLogin(page, shop, ...DEMO.customer);
      const session = (await context.cookies(shop)).find((c) => c.name === 'shop_session');
      assert.equal(session?.secure, true, 'the session cookie is Secure');
      await checkoutToHostedPage(page, shop, gateway, { name: 'Ada Lovelace', street: '1 Analytical Street' });

      const orders = await context.newPage();
      await orders.goto(`${shop}/orders`);
      const invoiceHref = await orders.locator('a[href^="/invoices/inv_"]').first().getAttribute('href');
      const watcher = await context.newPage();
      const sockets: string[] = [];
      watcher.on('websocket', (ws) => sockets.push(ws.url()));
      await watcher.goto(`${shop}${invoiceHref}`);
      await watcher.waitForSelector('#invoice-status[data-live="true"]', { timeout: 10_000 });
      assert.ok(
        sockets.some((u) => u.startsWith(`${shop.replace('https:', 'wss:')}/`)),
        `live updates over wss: ${sockets.join(', ')}`,
      );
      await watcher.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
      });

      await submitCard(page, '4242 4242 4242 4242', 'Ada Lovelace');
      await page.waitForSelector('#stage:has-text("Paid")', { timeout: 30_000 });

      await watcher.waitForSelector('[data-testid="invoice-status"].paid', { timeout: 30_000 });
      assert.equal(
        await watcher.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
        true,
        'updated without a reload',
      );
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
