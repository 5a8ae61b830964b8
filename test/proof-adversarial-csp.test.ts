// Proof suite "adversarial", page-markup part: a hostile visitor, customer, staff member or merchant
// puts markup into every input a page shows back — the login's `next` and email, the registration
// form, a product id in the path, the delivery address (stored, then shown on the pay step, the order
// and the staff console), a product's name and description (shown in the catalog to everyone), the
// gateway's session description and reference (shown on the hosted page) and dashboard key, the
// bank's login email. Each answer must carry the strict Content-Security-Policy with its companion
// headers, and its markup must hold no script, style, handler, javascript: URL, <base>, refresh,
// plugin or frame that the payload brought: the policy is the second wall, escaping the first.
// Reports as suite 'adversarial' (scripts/proof.mjs sums the reports of the suite's files).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  proofRandom,
  proofSeed,
  proofSize,
  recordProof,
  replayHint,
  sized,
  type ProofFailure,
} from './support/proof.ts';
import { ADDRESS } from './support/factories.ts';
import { startProofSystem, type ProofSystem } from './support/harness/in-process.ts';
import { inlineCodeFindings, policyFindings } from './support/csp.ts';
import type { ShopClient } from './support/shop-client.ts';

const SUITE = 'adversarial';
const seed = proofSeed();
const random = proofRandom(`${seed}/csp`);
const hint = replayHint(SUITE, seed);

const FIXED = [
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '<svg/onload=alert(1)>',
  '" style="background:url(//evil.test)" x="',
  '<base href="//evil.test/">',
  '<meta http-equiv="refresh" content="0;url=//evil.test">',
  'javascript:alert(1)',
  '<iframe src="//evil.test"></iframe><object data="//evil.test"></object>',
  '</textarea></title><script src=//evil.test/x.js></script>',
];
const PARTS = [
  '"',
  "'",
  '>',
  '<',
  '<script>',
  '</script>',
  ' onfocus=alert(1) autofocus ',
  'javascript:',
  '<style>',
  '<a href="javascript:x">',
  '&#x3c;',
  '\u2028',
  '`',
];
/** A random payload built from hostile parts (the same for the same seed). */
const randomPayload = () =>
  Array.from({ length: 2 + random.int(4) }, () => random.pick(PARTS)).join(random.pick(['', 'x', ' ']));

describe('adversarial: markup put into any input comes back as text, under a strict CSP', () => {
  let sys: ProofSystem;
  let customer: ShopClient;
  let staff: ShopClient;
  let cases = 0;
  let wronglyAccepted = 0;
  const failures: ProofFailure[] = [];
  const payloads = [...FIXED, ...Array.from({ length: sized(3, 40) }, randomPayload)];

  before(async () => {
    sys = await startProofSystem({ jobs: false });
    customer = await sys.login('customer');
    staff = await sys.login('staff');
  });
  after(async () => {
    await sys?.stop();
    recordProof({
      suite: SUITE,
      size: proofSize(),
      seed,
      cases,
      wronglyAccepted,
      lost: 0,
      doubleFulfilled: 0,
      recovered: 0,
      failures,
      figures: { cases, markupCases: cases, payloads: payloads.length },
    });
  });

  /** Checks one answer; a finding counts the case as wrongly accepted. */
  async function page(what: string, res: Response | Promise<Response>, nonced = false): Promise<string> {
    const r = await res;
    const html = await r.text();
    // A redirect shows nothing; the page it leads to is checked where the walk goes on.
    if (r.status >= 300 && r.status < 400) return html;
    cases++;
    const found = [...policyFindings(r.headers), ...inlineCodeFindings(html, nonced)];
    if (found.length > 0) {
      wronglyAccepted++;
      failures.push({ case: what, detail: found.join('; ') });
    }
    return html;
  }

  const assertClean = () =>
    assert.equal(wronglyAccepted, 0, `${hint}\n${failures.map((f) => `${f.case}: ${f.detail}`).join('\n')}`);

  it('the shop shows every hostile input back as text', async () => {
    for (const [i, p] of payloads.entries()) {
      const visitor = sys.client();
      await page(`shop /login?next= ${p}`, visitor.send(`/login?next=${encodeURIComponent(p)}`));
      await page(`shop login email ${p}`, visitor.send('/login', { form: { email: p, password: 'wrong-password' } }));
      await page(`shop register ${p}`, visitor.send('/register', { form: { name: p, email: p, password: 'short' } }));
      await page(`shop product path ${p}`, visitor.send(`/products/${encodeURIComponent(p)}`));
      await customer.emptyCart();
      await customer.send('/cart/add', { form: { productId: sys.productIds[0]!, quantity: '1' } });
      await page(
        `shop address refused ${p}`,
        customer.send('/checkout/address', { form: { ...ADDRESS, fullName: p, city: p, country: p } }),
      );
      if (i % 3 === 0) {
        // Stored: a valid address with the payload, shown on the pay step, the order, the staff console.
        await customer.send('/checkout/delivery', { form: { deliveryMethodId: sys.deliveryIds[0]! } });
        await customer.send('/checkout/address', {
          form: { ...ADDRESS, fullName: p.slice(0, 100), line1: p.slice(0, 100) },
        });
        const pay = await page(`shop pay step ${p}`, customer.send('/checkout/pay'));
        const cartId = /name="cartId" value="([^"]+)"/.exec(pay)?.[1];
        const placed = cartId ? await customer.send('/checkout/pay', { form: { cartId } }) : undefined;
        const invoiceId = /\/invoices\/(inv_\w+)/.exec(placed?.headers.get('location') ?? '')?.[1];
        if (invoiceId) {
          const { invoice } = (await (await customer.send(`/api/invoices/${invoiceId}`)).json()) as {
            invoice: { orderId: string };
          };
          await page(`shop order ${p}`, customer.send(`/orders/${invoice.orderId}`));
          await page(`shop staff order ${p}`, staff.send(`/staff/orders/${invoice.orderId}`));
        }
        // Stored: a product a staff member names with the payload, in the catalog everyone sees.
        await page(
          `shop staff product ${p}`,
          staff.send('/staff/products', { form: { name: p.slice(0, 100), description: p, price: '1.00' } }),
        );
        await page(`shop catalog after ${p}`, visitor.send('/'));
      }
    }
    assertClean();
  });

  it("the gateway's hosted page and dashboard, and the bank's login, show every hostile input back as text", async () => {
    for (const p of payloads) {
      const body = {
        amount: { minor: '1000', currency: 'EUR' },
        merchant_reference: p.slice(0, 100),
        description: p.slice(0, 200),
        return_url: 'http://shop.test/r',
      };
      const session = (await (await sys.gatewayApi('/v1/payment_sessions', { body })).json()) as {
        hosted_url?: string;
      };
      if (session.hosted_url) await page(`gateway hosted page ${p}`, fetch(session.hosted_url));
      await page(
        `gateway dashboard key ${p}`,
        fetch(`${sys.gateway.url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ api_key: p }) }),
      );
      const login = await fetch(`${sys.bank.url}/login`);
      const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? '';
      const cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0]!;
      await page(
        `bank login email ${p}`,
        fetch(`${sys.bank.url}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie },
          body: new URLSearchParams({ email: p, password: 'wrong-password', csrf }),
        }),
        true,
      );
    }
    assertClean();
  });
});
