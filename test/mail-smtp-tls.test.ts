// The shop's SMTP transport against the mail catcher as a real process that requires STARTTLS (with a
// certificate from a local CA the shop trusts) and AUTH: the right credentials deliver, wrong ones and
// a server that is not there fail the attempt with the SMTP error (the send job retries it), and a
// server that accepts the connection but never answers is given up within SHOP_SMTP_TIMEOUT_MS.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureDevCertificates } from '../src/platform/dev-certificates.ts';
import { loadMailConfig } from '../src/shop/mail/config.ts';
import { smtpTransport } from '../src/shop/mail/send.ts';
import { startCatcherProcess, type CatcherProcess } from './support/mail.ts';

describe('SMTP with STARTTLS and AUTH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-mail-tls-'));
  let catcher: CatcherProcess;
  let ca = '';

  before(async () => {
    const files = await ensureDevCertificates(dir);
    ca = readFileSync(files.caFile, 'utf8');
    catcher = await startCatcherProcess({
      MAIL_CATCHER_AUTH: 'shop:s3cret-pass',
      MAIL_CATCHER_TLS_KEY: files.keyFile,
      MAIL_CATCHER_TLS_CERT: files.certFile,
    });
  });
  after(async () => {
    await catcher?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (url: string, ca?: string, timeoutMs = 5000) => {
    const config = loadMailConfig({ SHOP_SMTP_URL: url, SHOP_SMTP_TIMEOUT_MS: String(timeoutMs) });
    const transport = smtpTransport(config, ca)!;
    return transport
      .sendMail({
        from: config.from,
        to: 'customer@shop.test',
        subject: `tls check ${url.length}`,
        text: 'hello',
        messageId: '<tls-check@mail.countersign.shop>',
      })
      .finally(() => transport.close?.());
  };

  it('delivers over STARTTLS with the right credentials, trusting the configured CA', async () => {
    await send(`smtp://shop:s3cret-pass@127.0.0.1:${catcher.smtpPort}?requireTLS=true`, ca);
    const mails = await catcher.waitFor((m) => m.length >= 1, 10_000);
    assert.equal(mails[0]!.messageId, '<tls-check@mail.countersign.shop>');
  });

  it("fails with the server's answer for wrong credentials, and refuses a certificate it does not trust", async () => {
    await assert.rejects(
      send(`smtp://shop:wrong@127.0.0.1:${catcher.smtpPort}?requireTLS=true`, ca),
      /Invalid username or password|535/,
    );
    await assert.rejects(
      send(`smtp://shop:s3cret-pass@127.0.0.1:${catcher.smtpPort}?requireTLS=true`),
      /certificate|self.signed|unable to verify/i,
    );
  });

  it('gives up on a server that accepts the connection and never greets, within the timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    try {
      await assert.rejects(send(`smtp://127.0.0.1:${port}`, undefined, 1000), /timeout|Greeting never received/i);
      assert.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
