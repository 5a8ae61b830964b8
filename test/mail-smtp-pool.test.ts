// The shop's SMTP transport keeps its connections open between mails: mails one after another go out
// on one connection; a connection the server ended while idle costs the next mail nothing; a
// connection lost during a send fails that send (the send job retries it) without holding up the next.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { loadMailConfig } from '../src/shop/mail/config.ts';
import { smtpTransport, type MailTransport } from '../src/shop/mail/send.ts';

describe('SMTP connections kept open', () => {
  const sockets = new Set<Socket>();
  const subjects: string[] = [];
  let connections = 0;
  let port = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onConnect(_session, done) {
      connections += 1;
      done();
    },
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const subject = /^Subject: (.*)$/m.exec(Buffer.concat(chunks).toString('utf8'))?.[1]?.trim() ?? '';
        // "drop": the server closes the connection in the middle of the transaction, before it answers the data.
        if (subject === 'drop') {
          for (const s of sockets) s.end();
          return;
        }
        subjects.push(subject);
        done();
      });
    },
  });
  server.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  let transport: MailTransport;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.server.address() as { port: number }).port;
    transport = smtpTransport(
      loadMailConfig({ SHOP_SMTP_URL: `smtp://127.0.0.1:${port}`, SHOP_SMTP_TIMEOUT_MS: '3000' }),
    )!;
  });
  after(async () => {
    transport?.close?.();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const send = (subject: string) =>
    transport.sendMail({
      from: 'shop@shop.test',
      to: 'customer@shop.test',
      subject,
      text: 'hello',
      messageId: `<${subject}@mail.countersign.shop>`,
    });

  it('sends mails one after another on one connection', async () => {
    for (const s of ['one', 'two', 'three']) await send(s);
    assert.deepEqual(subjects, ['one', 'two', 'three']);
    assert.equal(connections, 1, 'three mails, one SMTP connection');
    assert.equal(sockets.size, 1, 'the connection stays open after the last mail');
  });

  it('sends the next mail on a new connection after the server ended the idle one', async () => {
    const before = connections;
    for (const s of sockets) s.end();
    await waitUntil(() => sockets.size === 0);
    await send('after-idle-close');
    assert.equal(subjects.at(-1), 'after-idle-close');
    assert.equal(connections, before + 1);
  });

  it('fails a send whose connection is lost, once, and sends the next one', async () => {
    const delivered = subjects.length;
    const before = connections;
    await assert.rejects(send('drop'));
    // Nothing sent again behind the job's back: the send job's retry (with its backoff) is the only
    // retry. (nodemailer's requeue, off in smtpTransport, would not fire here either: the lost
    // connection reaches it as an error, which fails the send. This checks the outcome, not the option.)
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(connections, before, 'no connection opened to send the failed mail again');
    await send('after-drop');
    assert.deepEqual(subjects.slice(delivered), ['after-drop']);
  });
});

async function waitUntil(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
