// Staff's view of an order's mails: each mail's kind, recipient, status (queued, sent, failed), the
// send job's attempts and next retry, and the last SMTP error. Rendered on the staff order page.
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { jobs } from '../../platform/jobs/jobs.schema.ts';
import { Status } from '../pages/layout.tsx';
import { shopMails } from './mail.schema.ts';
import { MAIL_SEND_TASK, mailJobKey } from './outbox.ts';

const when = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');

/** The "Mail" section of the staff order page (an async component: it reads the order's mails itself). */
export async function MailStatus(props: { db: Executor; orderId: string }) {
  const mails = await props.db.select().from(shopMails).where(eq(shopMails.orderId, props.orderId)).orderBy(asc(shopMails.createdAt));
  const keys = mails.map((m) => mailJobKey(m.kind, m.subjectId));
  const jobRows = keys.length ? await props.db.select().from(jobs).where(and(eq(jobs.task, MAIL_SEND_TASK), inArray(jobs.key, keys))) : [];
  const jobOf = (key: string) => jobRows.find((j) => j.key === key);
  return (
    <section data-testid="staff-order-mails">
      <h2>Mail</h2>
      <div class="table-wrap">
        <table>
          <thead><tr><th>Mail</th><th>To</th><th>Status</th><th>Attempts</th><th>Next try</th><th>Sent</th><th>Last error</th></tr></thead>
          <tbody>
            {mails.map((m) => {
              const job = jobOf(mailJobKey(m.kind, m.subjectId));
              return (
                <tr data-testid="staff-order-mail" data-kind={m.kind} data-status={m.status}>
                  <td>{m.kind.replace(/_/g, ' ')}</td>
                  <td>{m.recipient}</td>
                  <td><Status status={m.status} /></td>
                  <td>{job ? `${job.attempts} of ${job.maxAttempts}` : m.attempts}</td>
                  <td>{m.status === 'queued' && job?.status === 'pending' ? when(job.runAt) : '—'}</td>
                  <td>{when(m.sentAt)}</td>
                  <td data-testid="staff-order-mail-error">{m.lastError ?? ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {mails.length === 0 ? <p>No mail for this order yet.</p> : null}
    </section>
  );
}
