// The write side of the mail outbox: `enqueueMail` is called inside the transaction of the state change
// that owes the customer a mail (an invoice paid, an attempt declined, a refund succeeded…). It writes
// the mail row and its send job together, so the mail exists exactly when the change committed, and a
// second cause of the same mail (the same webhook delivered twice, a feed replay) writes nothing.
import { sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Executor } from '../../platform/db/database.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import { enqueueAlong } from '../../platform/jobs/jobs.ts';
import { orders, users } from '../storage/tables.ts';
import { shopMails, type MailKind } from './mail.schema.ts';

export const MAIL_SEND_TASK = 'shop.mail.send';

/** Attempts before a mail is failed for good: with the job queue's backoff (capped at 1 h) about a day. */
export const MAIL_MAX_ATTEMPTS = 30;

/** The host part of every Message-ID the shop makes (`<mail id>@<host>`). */
export const MESSAGE_ID_HOST = 'mail.countersign.shop';

export interface MailCause {
  readonly kind: MailKind;
  /** The invoice (receipt, expiry, reversal), attempt (declined, timed out) or refund the mail is about. */
  readonly subjectId: string;
  readonly orderId: string;
  readonly invoiceId?: string;
}

/** The job key of a mail: one per (kind, subject), ever. */
export const mailJobKey = (kind: MailKind, subjectId: string) => `mail:${kind}:${subjectId}`;

/** Records a mail and its send job in the caller's transaction; returns its id, or null when this mail was already owed. */
export async function enqueueMail(tx: Executor, cause: MailCause, now: Date): Promise<string | null> {
  const id = newId('mail', now);
  // The recipient is read from the order's owner in the insert itself, and the send job is added in
  // the same statement (when the mail row was): no owner, or a mail of this kind already owed for this
  // subject, and nothing is written.
  const { wrote } = await enqueueAlong(
    tx,
    sql`insert into ${shopMails} (id, kind, subject_id, order_id, invoice_id, recipient, status, message_id, created_at, updated_at)
        select ${id}, ${cause.kind}, ${cause.subjectId}, ${orders.id}, ${cause.invoiceId ?? null}, ${users.email}, 'queued',
               ${`<${id}@${MESSAGE_ID_HOST}>`}, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
          from ${orders} join ${users} on ${users.id} = ${orders.userId}
         where ${orders.id} = ${cause.orderId}
        on conflict (kind, subject_id) do nothing
        returning id`,
    {
      task: MAIL_SEND_TASK,
      payload: { mailId: id },
      key: mailJobKey(cause.kind, cause.subjectId),
      maxAttempts: MAIL_MAX_ATTEMPTS,
    },
    { now: () => now },
  );
  if (!wrote) return null;
  crashPoint('shop.mail.after_enqueue');
  return id;
}
