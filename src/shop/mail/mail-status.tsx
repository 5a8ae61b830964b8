// Staff's view of an order's mails: each mail's kind, recipient, status (queued, sent, failed), the
// send job's attempts and next retry, and the last SMTP error. Read by the staff order route, shown on its page.
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { jobs } from '../../platform/jobs/jobs.schema.ts';
import { formatWhen } from '../pages/format.ts';
import { Status } from '../pages/layout.tsx';
import { shopMails } from './mail.schema.ts';
import { MAIL_SEND_TASK, mailJobKey } from './outbox.ts';

/** One mail as staff see it: the outbox row and, while it is queued, its send job. */
export interface MailView {
  readonly mail: typeof shopMails.$inferSelect;
  readonly job: typeof jobs.$inferSelect | undefined;
}

/** The order's mails with their send jobs, oldest first. */
export async function mailsForOrder(db: Executor, orderId: string): Promise<MailView[]> {
  const mails = await db
    .select()
    .from(shopMails)
    .where(eq(shopMails.orderId, orderId))
    .orderBy(asc(shopMails.createdAt));
  const keys = mails.map((m) => mailJobKey(m.kind, m.subjectId));
  const jobRows = keys.length
    ? await db
        .select()
        .from(jobs)
        .where(and(eq(jobs.task, MAIL_SEND_TASK), inArray(jobs.key, keys)))
    : [];
  return mails.map((mail) => ({ mail, job: jobRows.find((j) => j.key === mailJobKey(mail.kind, mail.subjectId)) }));
}

const when = (d: Date | null) => (d ? formatWhen(d, 'second') : '—');

/** The "Mail" section of the staff order page. */
export function MailStatus(props: { mails: readonly MailView[] }) {
  const mails = props.mails;
  return (
    <section data-testid="staff-order-mails">
      <h2>Mail</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Mail</th>
              <th>To</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Next try</th>
              <th>Sent</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {mails.map(({ mail: m, job }) => {
              return (
                <tr data-testid="staff-order-mail" data-kind={m.kind} data-status={m.status}>
                  <td>{m.kind.replace(/_/g, ' ')}</td>
                  <td>{m.recipient}</td>
                  <td>
                    <Status status={m.status} />
                  </td>
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
