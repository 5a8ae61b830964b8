// `npm start` with its embedded mail catcher: the launcher starts the catcher as a child process,
// prints its inbox on a line beginning with `mail`, and points the shop at it. A purchase in Chromium
// sends the receipt there; the customer follows the receipt link from the mail's HTML (as the inbox
// shows it) to the shop's receipt page, and downloads the same receipt as a PDF.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkoutToHostedPage, launchBrowser, shopLogin, submitCard } from './support/browser.ts';
import { pdfText, type InboxMail } from './support/mail.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';

describe('npm start with its mail catcher', () => {
  let system: LaunchedSystem;
  let inbox = '';

  before(async () => {
    system = await launchSystem();
    const line = system.output.find((l) => /^mail\s+http/.test(l));
    assert.ok(line, `a line beginning with "mail" names the inbox:\n${system.output.join('')}`);
    inbox = /^mail\s+(http:\/\/\S+)/.exec(line)![1]!;
  });

  after(() => system.stop());

  it("serves the inbox in maildev's REST shape, empty at first", async () => {
    const res = await fetch(`${inbox}/email`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), []);
  });

  it('a purchase in Chromium sends one receipt; its link opens the receipt page, which offers the PDF', async () => {
    const { shop, gateway } = system.urls;
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      await shopLogin(page, shop, 'customer@shop.test', 'demo-customer-password');
      await checkoutToHostedPage(page, shop, gateway, { name: 'Ada Lovelace', street: '1 Analytical Street' });
      await submitCard(page, '4242 4242 4242 4242', 'Ada Lovelace');
      await page.waitForSelector('#stage:has-text("Paid")', { timeout: 30_000 });

      let mails: InboxMail[] = [];
      for (let i = 0; i < 150 && !mails.some((m) => m.subject.startsWith('Your receipt')); i++) {
        await new Promise((r) => setTimeout(r, 200));
        mails = (await (await fetch(`${inbox}/email`)).json()) as InboxMail[];
      }
      const receipt = mails.find((m) => m.subject.startsWith('Your receipt'));
      assert.ok(receipt, `a receipt arrived: ${JSON.stringify(mails.map((m) => m.subject))}`);
      assert.deepEqual(
        receipt.to.map((t) => t.address),
        ['customer@shop.test'],
      );
      assert.equal(receipt.attachments[0]?.contentType, 'application/pdf');
      // The shop never saw the card: the receipt names it as the gateway keeps it (brand, last four).
      assert.match(receipt.text, /Paid with \w+ ending in 4242\./);

      // The mail as the inbox shows it, then its link, in the customer's browser.
      await page.goto(`${inbox}/email/${receipt.id}/html`);
      await page.getByTestId('receipt-link').click();
      await page.waitForURL(new RegExp(`^${shop}/orders/ord_\\w+/receipt$`));
      const amount = (await page.getByTestId('receipt-amount').textContent())?.trim() ?? '';
      assert.match(amount, /^€\d+\.\d\d$/);
      assert.ok(receipt.text.includes(`Total paid: ${amount}`), `the mail and the page agree on ${amount}`);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('receipt-pdf').click()]);
      const chunks: Buffer[] = [];
      for await (const chunk of (await download.createReadStream())!) chunks.push(chunk as Buffer);
      const pdf = pdfText(new Uint8Array(Buffer.concat(chunks)));
      assert.ok(pdf.includes(`Total paid: ${amount}`));
      assert.ok(
        pdf.some((line) => /ending in 4242/.test(line)),
        `the PDF names the card: ${pdf.join(' | ')}`,
      );
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
