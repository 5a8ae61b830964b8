// The mail catcher as a real process (src/shop/mail/catcher.ts) for tests: its SMTP URL, its inbox in
// maildev's REST shape, a stop and a restart on the same ports (an SMTP server that goes down and comes
// back), and a PDF text extractor for pdf-lib's output.
import { spawn, type ChildProcess } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import { createInterface } from 'node:readline';
import { runnable } from '../../src/platform/compiled.ts';
import { projectRoot } from '../../src/platform/project-root.ts';

export interface InboxMail {
  id: string;
  messageId?: string;
  subject: string;
  from: { address: string; name: string }[];
  to: { address: string; name: string }[];
  text: string;
  html: string;
  attachments: { fileName: string; contentType: string; length: number }[];
}

export interface CatcherProcess {
  readonly smtpUrl: string;
  readonly inboxUrl: string;
  readonly smtpPort: number;
  inbox(): Promise<InboxMail[]>;
  attachment(mail: InboxMail, fileName: string): Promise<Uint8Array>;
  /** Resolves when `predicate` holds for the inbox (polled), or fails after `timeoutMs`. */
  waitFor(predicate: (mails: InboxMail[]) => boolean, timeoutMs?: number): Promise<InboxMail[]>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same SMTP port (the inbox is new). */
  restart(): Promise<void>;
}

async function spawnCatcher(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; smtpPort: number; inboxUrl: string }> {
  // Compiled, as `npm start` runs it (COUNTERSIGN_RUN_TS=1: the source through tsx).
  const entry = await runnable('shop/mail/catcher.ts');
  const child = spawn(process.execPath, [...entry.execArgv, entry.file], {
    cwd: projectRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    // Generous: on a loaded 2-core machine starting the catcher can take a while.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('mail catcher not ready in 120 s'));
    }, 120_000);
    child.once('exit', (code) => reject(new Error(`mail catcher exited ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^mail\s+smtp:\/\/127\.0\.0\.1:(\d+) inbox (\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, smtpPort: Number(m[1]), inboxUrl: m[2]! });
      }
    });
  });
}

/** Starts a catcher process (extra MAIL_CATCHER_* variables in `env`). */
export async function startCatcherProcess(env: Record<string, string> = {}): Promise<CatcherProcess> {
  let current = await spawnCatcher(env);
  const smtpPort = current.smtpPort;
  const self: CatcherProcess = {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    smtpPort,
    get inboxUrl() {
      return current.inboxUrl;
    },
    async inbox() {
      // One retry: a keep-alive socket the server closed as the request left is not a failure of the inbox.
      const get = async () => (await (await fetch(`${current.inboxUrl}/email`)).json()) as InboxMail[];
      return get().catch(get);
    },
    attachment: async (mail, fileName) =>
      new Uint8Array(
        await (
          await fetch(`${current.inboxUrl}/email/${mail.id}/attachment/${encodeURIComponent(fileName)}`)
        ).arrayBuffer(),
      ),
    async waitFor(predicate, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const mails = await self.inbox();
        if (predicate(mails)) return mails;
        if (Date.now() > until)
          throw new Error(`inbox never matched; it holds: ${JSON.stringify(mails.map((m) => m.subject))}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop(signal = 'SIGTERM') {
      const child = current.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill(signal);
      });
    },
    async restart() {
      await self.stop();
      current = await spawnCatcher({ ...env, MAIL_CATCHER_SMTP_PORT: String(smtpPort) });
    },
  };
  return self;
}

/** The text a pdf-lib document draws (its Flate content streams' hex-string Tj operands), one string per drawn line. */
export function pdfText(pdf: Uint8Array): string[] {
  const bytes = Buffer.from(pdf);
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const start = bytes.indexOf('stream', at);
    if (start < 0) break;
    const body = start + (bytes[start + 6] === 0x0d ? 8 : 7);
    const end = bytes.indexOf('endstream', body);
    if (end < 0) break;
    let content: string;
    try {
      content = inflateSync(bytes.subarray(body, end)).toString('latin1');
    } catch {
      content = bytes.subarray(body, end).toString('latin1');
    }
    for (const m of content.matchAll(/<([0-9A-Fa-f]*)>\s*Tj/g))
      out.push(Buffer.from(m[1]!, 'hex').toString('latin1').replace(/\x80/g, '€')); // WinAnsi 0x80 is the euro sign
    at = end + 9;
  }
  return out;
}
