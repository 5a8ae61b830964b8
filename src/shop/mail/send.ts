// The send job (shop.mail.send): takes one queued mail, renders it, hands it to the SMTP server and
// records the outcome. Delivery is at least once: a crash after the server accepted the mail and before
// `sent` committed sends it again on retry, with the same Message-ID (the mail's id), so the copy is
// recognisable as the same mail. A refused or unreachable server fails the attempt; the job queue
// retries with backoff, and the mail row shows staff the attempts and the last SMTP error.
import type { GatewayPort } from '../domain/gateway.port.ts';
import { type MailEvent, mailMachine } from '../domain/mail.machine.ts';
import { cardThatPaid } from './card.ts';
import { and, eq } from 'drizzle-orm';
import { createTransport, type SendMailOptions } from 'nodemailer';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import type { JobContext, JobHandler } from '../../platform/jobs/jobs.ts';
import type { Logger } from '../../platform/log.ts';
import type { MailConfig } from './config.ts';
import { mailContent } from './mail-content.ts';
import { shopMails } from './mail.schema.ts';
import { SHOP_JOB_CONCURRENCY } from '../jobs/worker.ts';
import { MAIL_MAX_ATTEMPTS, MAIL_SEND_TASK } from './outbox.ts';
import { receiptPdf } from './receipt-pdf.ts';

/** What the job needs to send a message: nodemailer's transport in production, anything with sendMail in a test. */
export interface MailTransport {
  sendMail(message: SendMailOptions): Promise<unknown>;
  /** Ends the transport's connections (the shop calls it at stop, once no send job runs). */
  close?(): void;
}

/**
 * An SMTP transport for SHOP_SMTP_URL, bounded in time, trusting the shop's configured CA as well.
 *
 * Pooled: a mail goes out on a connection kept open from the one before (nodemailer's pool, at most
 * MAX_CONNECTIONS, each closed after IDLE_MS without a mail), not on a new connection with its own
 * greeting, EHLO, STARTTLS and AUTH. Against the mail catcher that took a mail from ~105 ms and
 * ~3 ms of the shop's CPU to ~3.6 ms and ~1.6 ms (bench/README.md, "Receipts in the window").
 * nodemailer does not queue a mail again itself (maxRequeues 0): a connection lost during a send
 * fails that attempt, and the send job retries it with its backoff, as a refusal does.
 */
export function smtpTransport(config: MailConfig, ca?: string): MailTransport | undefined {
  if (!config.smtpUrl) return undefined;
  const t = config.timeoutMs;
  return createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: MAX_CONNECTIONS,
    idleTimeout: IDLE_MS,
    maxRequeues: 0,
    connectionTimeout: t,
    greetingTimeout: t,
    socketTimeout: t,
    dnsTimeout: t,
    ...(ca ? { tls: { ca } } : {}),
  });
}

/** Connections per shop process: one per job the shop's worker runs at a time, each sending one mail. */
const MAX_CONNECTIONS = SHOP_JOB_CONCURRENCY;
/** An idle connection is closed before SMTP servers' own idle limits (minutes, RFC 5321 4.5.3.2). */
const IDLE_MS = 30_000;

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 500);

/** The mail tasks for the shop's worker. */
export function mailTasks(deps: MailDeps & { log: Logger }): Record<string, JobHandler> {
  if (!deps.transport)
    deps.log.warn({}, 'SHOP_SMTP_URL is not set: mails are recorded and wait, queued, until a server is configured');
  return { [MAIL_SEND_TASK]: (payload, ctx) => sendOne(deps, payload, ctx) };
}

interface MailDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly config: MailConfig;
  readonly publicUrl: string;
  readonly transport: MailTransport | undefined;
  /** Asked for the card that paid, for the receipt; without one the receipt names no card. */
  readonly gateway?: GatewayPort | undefined;
}

async function sendOne(deps: MailDeps, payload: unknown, ctx: JobContext): Promise<void> {
  const mailId = (payload as { mailId?: unknown })?.mailId;
  if (typeof mailId !== 'string') return;
  const db = deps.database.db;
  const [mail] = await db.select().from(shopMails).where(eq(shopMails.id, mailId));
  if (!mail || mail.status !== 'queued') return;
  // The one writer of a mail's status: the machine names the next state; only a queued mail moves.
  const record = (event: MailEvent, patch: Pick<typeof shopMails.$inferInsert, 'lastError' | 'sentAt'>) =>
    db
      .update(shopMails)
      .set({
        status: mailMachine.apply(mail.status, event).state,
        attempts: ctx.attempt,
        updatedAt: deps.clock.now(),
        ...patch,
      })
      .where(and(eq(shopMails.id, mailId), eq(shopMails.status, 'queued')));
  // Without a server the mail waits: it is not built first (that reads the order and asks the gateway
  // for the card, on every retry of every queued mail).
  if (!deps.transport) {
    const err = new Error('no SMTP server configured (SHOP_SMTP_URL); the mail waits');
    await record(ctx.attempt >= MAIL_MAX_ATTEMPTS ? 'fail' : 'retry', { lastError: err.message });
    throw err;
  }
  const built = await mailContent(db, mail, deps.publicUrl, (invoiceId) => cardThatPaid(db, deps.gateway, invoiceId));
  if (!built) {
    await record('fail', { lastError: 'nothing to send: the order or its subject is gone' });
    return;
  }
  try {
    const attachments = built.receipt
      ? [
          {
            filename: `receipt-${mail.orderId}.pdf`,
            content: Buffer.from(await receiptPdf(built.receipt)),
            contentType: 'application/pdf',
          },
        ]
      : [];
    crashPoint('shop.mail.before_send');
    await deps.transport.sendMail({
      from: deps.config.from,
      to: mail.recipient,
      subject: built.content.subject,
      text: built.content.text,
      html: built.content.html,
      messageId: mail.messageId,
      attachments,
    });
    crashPoint('shop.mail.after_send');
  } catch (err) {
    // Recorded for staff, then thrown so that the job queue retries it (or gives up after the last attempt).
    await record(ctx.attempt >= MAIL_MAX_ATTEMPTS ? 'fail' : 'retry', { lastError: describe(err) });
    throw err;
  }
  await record('send', { lastError: null, sentAt: deps.clock.now() });
}
