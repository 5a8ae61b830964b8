// A local mail catcher for development and tests: an SMTP server (smtp-server) that keeps every message
// it accepts in memory, parsed (mailparser), and a small web inbox that serves them in maildev's REST
// shape — GET /email lists them as JSON ({id, subject, from, to:[{address,name}], text, html,
// messageId, attachments:[{fileName, contentType, length, …}]}), GET /email/:id/html shows one,
// GET /email/:id/attachment/:fileName downloads an attachment, DELETE /email/all empties the inbox.
// `npm start` runs it as a child process unless SHOP_SMTP_URL names a real server.
//
//   MAIL_CATCHER_SMTP_PORT, MAIL_CATCHER_HTTP_PORT   ports (0 or unset: any free port)
//   MAIL_CATCHER_HOST                                listening address (default 127.0.0.1)
//   MAIL_CATCHER_AUTH=user:password                  require SMTP AUTH with these credentials
//   MAIL_CATCHER_TLS_KEY / MAIL_CATCHER_TLS_CERT     PEM files: offer STARTTLS with this certificate
//   MAIL_CATCHER_REFUSE=<reply>                      refuse every message with this SMTP reply (tests)
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { isMain } from '../../platform/service.ts';

/** One caught message in maildev's REST shape (plus the raw attachments, served separately). */
export interface CaughtMail {
  readonly id: string;
  readonly messageId: string | undefined;
  readonly subject: string;
  readonly from: readonly { address: string; name: string }[];
  readonly to: readonly { address: string; name: string }[];
  readonly date: string;
  readonly text: string;
  readonly html: string;
  readonly attachments: readonly {
    fileName: string;
    generatedFileName: string;
    contentType: string;
    length: number;
    checksum: string;
  }[];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const addresses = (v: unknown): { address: string; name: string }[] => {
  const list = (Array.isArray(v) ? v : v ? [v] : []) as { value?: { address?: string; name?: string }[] }[];
  return list.flatMap((a) => a.value ?? []).map((a) => ({ address: a.address ?? '', name: a.name ?? '' }));
};
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export interface Catcher {
  readonly smtpPort: number;
  readonly httpUrl: string;
  close(): Promise<void>;
}

/** Starts the SMTP server and the web inbox. */
export async function startCatcher(env: Record<string, string | undefined> = process.env): Promise<Catcher> {
  const host = env.MAIL_CATCHER_HOST ?? '127.0.0.1';
  const mails: CaughtMail[] = [];
  const files = new Map<string, Buffer>();
  const auth = env.MAIL_CATCHER_AUTH;
  const tls =
    env.MAIL_CATCHER_TLS_KEY && env.MAIL_CATCHER_TLS_CERT
      ? { key: readFileSync(env.MAIL_CATCHER_TLS_KEY), cert: readFileSync(env.MAIL_CATCHER_TLS_CERT) }
      : undefined;
  const smtp = new SMTPServer({
    ...(tls ?? {}),
    // Without a certificate of ours, no STARTTLS: the server's built-in one is self-signed and a client would rightly refuse it.
    disabledCommands: tls ? [] : ['STARTTLS'],
    authOptional: !auth,
    allowInsecureAuth: !tls,
    logger: false,
    size: 25 * 1024 * 1024,
    onAuth(a, _session, done) {
      const ok = auth !== undefined && same(`${a.username}:${a.password}`, auth);
      done(ok ? null : new Error('Invalid username or password'), ok ? { user: a.username } : undefined);
    },
    onRcptTo(_address, _session, done) {
      if (env.MAIL_CATCHER_REFUSE)
        return done(Object.assign(new Error(env.MAIL_CATCHER_REFUSE), { responseCode: 451 }));
      done();
    },
    onData(stream, _session, done) {
      simpleParser(stream)
        .then((parsed) => {
          const id = randomUUID().slice(0, 8);
          const attachments = parsed.attachments.map((a, i) => {
            const fileName = a.filename ?? `attachment-${i + 1}`;
            files.set(`${id}/${fileName}`, a.content);
            return {
              fileName,
              generatedFileName: fileName,
              contentType: a.contentType,
              length: a.size,
              checksum: a.checksum,
            };
          });
          mails.push({
            id,
            messageId: parsed.messageId,
            subject: parsed.subject ?? '',
            from: addresses(parsed.from),
            to: addresses(parsed.to),
            date: (parsed.date ?? new Date()).toISOString(),
            text: parsed.text ?? '',
            html: parsed.html || '',
            attachments,
          });
          done();
        })
        .catch((err: Error) => done(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(Number(env.MAIL_CATCHER_SMTP_PORT ?? 0), host, () => resolve());
  });
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://catcher');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method === 'DELETE' && url.pathname === '/email/all') {
      mails.length = 0;
      files.clear();
      return send(200, 'application/json', 'true');
    }
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed');
    if (url.pathname === '/email') return send(200, 'application/json', JSON.stringify(mails));
    const m = /^\/email\/([0-9a-f]{8})(?:\/(html|attachment\/(.+)))?$/.exec(url.pathname);
    const mail = m ? mails.find((x) => x.id === m[1]) : undefined;
    if (m && mail && !m[2]) return send(200, 'application/json', JSON.stringify(mail));
    if (m && mail && m[2] === 'html')
      return send(200, 'text/html; charset=utf-8', mail.html || `<pre>${esc(mail.text)}</pre>`);
    const file = m && mail && m[3] ? files.get(`${mail.id}/${decodeURIComponent(m[3])}`) : undefined;
    if (file)
      return send(
        200,
        mail!.attachments.find((a) => a.fileName === decodeURIComponent(m![3]!))?.contentType ??
          'application/octet-stream',
        file,
      );
    if (url.pathname === '/') return send(200, 'text/html; charset=utf-8', inboxPage(mails));
    send(404, 'text/plain', 'not found');
  });
  // Longer than a client's idle keep-alive, so a poller never races the server closing its socket.
  http.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => http.listen(Number(env.MAIL_CATCHER_HTTP_PORT ?? 0), host, () => resolve()));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const httpPort = (http.address() as AddressInfo).port;
  return {
    smtpPort,
    httpUrl: `http://${host}:${httpPort}`,
    close: async () => {
      http.closeAllConnections();
      await Promise.all([
        new Promise<void>((r) => smtp.close(() => r())),
        new Promise<void>((r) => (http as Server).close(() => r())),
      ]);
    },
  };
}

function inboxPage(mails: readonly CaughtMail[]): string {
  const rows = [...mails]
    .reverse()
    .map(
      (m) =>
        `<tr><td>${esc(m.date)}</td><td>${esc(m.to.map((t) => t.address).join(', '))}</td><td><a href="/email/${m.id}/html">${esc(m.subject)}</a></td><td>${m.attachments.map((a) => `<a href="/email/${m.id}/attachment/${encodeURIComponent(a.fileName)}">${esc(a.fileName)}</a>`).join(' ')}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>mail inbox</title></head><body style="font-family:sans-serif"><h1>Mail inbox</h1><p>${mails.length} message(s). JSON at <a href="/email">/email</a>.</p><table><thead><tr><th>Date</th><th>To</th><th>Subject</th><th>Attachments</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
}

if (isMain(import.meta.url)) {
  const catcher = await startCatcher();
  console.log(`mail     smtp://127.0.0.1:${catcher.smtpPort} inbox ${catcher.httpUrl}`);
  process.send?.({ type: 'ready', smtpPort: catcher.smtpPort, url: catcher.httpUrl });
  // Once: a launcher that stops the catcher and then exits sends a signal and a disconnect.
  let stopping: Promise<void> | undefined;
  const stop = () => void (stopping ??= catcher.close().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by `npm start` (with an IPC channel): a launcher that dies without stopping it (SIGKILL,
  // a crash) closes the channel, and the catcher goes with it instead of holding its ports for ever.
  process.on('disconnect', stop);
}
