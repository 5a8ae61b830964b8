// The staff console's disputes: an order's disputes with their deadline and time left, the forms to
// answer one (evidence: a text and files, with the receipt and audit trail attached automatically; or
// accept, confirmed), and the list of open disputes, soonest deadline first.
import type { FC } from 'hono/jsx';
import { timeLeft } from '../domain/dispute.machine.ts';
import type { DisputeRow, disputesByDeadline } from '../storage/disputes.ts';
import { formatWhen } from './format.ts';
import { CsrfField, Layout, Notice, Status, showMoney, type PageCtx } from './layout.tsx';
import { StaffNav } from './staff.page.tsx';

/**
 * What a staff member may upload beside the automatic documents: small enough that three files, base64
 * in the gateway's JSON with the receipt and the audit trail, stay under its 1 MiB request limit.
 */
export const EVIDENCE_LIMITS = {
  maxFiles: 3,
  maxFileBytes: 160 * 1024,
  maxTextChars: 10_000,
  types: ['application/pdf', 'image/png', 'image/jpeg', 'text/plain'],
} as const;

const Deadline: FC<{ d: DisputeRow; now: Date }> = ({ d, now }) =>
  d.status === 'needs_response' ? (
    <span data-testid="dispute-deadline">
      evidence due by {formatWhen(d.evidenceDueBy)} (
      <strong data-testid="dispute-time-left">{timeLeft(d.evidenceDueBy, now)}</strong>)
    </span>
  ) : (
    <span>evidence was due by {formatWhen(d.evidenceDueBy)}</span>
  );

/** The answer forms of a dispute still awaiting a response. */
const AnswerForms: FC<{ d: DisputeRow; ctx: PageCtx }> = ({ d, ctx }) => (
  <>
    <form
      class="stack"
      method="post"
      action={`/staff/disputes/${d.id}/evidence`}
      enctype="multipart/form-data"
      data-testid="dispute-evidence-form"
    >
      <CsrfField token={ctx.csrf} />
      <p>
        The order's receipt and its audit trail are attached automatically. Add up to {EVIDENCE_LIMITS.maxFiles} files
        (PDF, PNG, JPEG or plain text, {EVIDENCE_LIMITS.maxFileBytes / 1024} KB each at most).
      </p>
      <div class="field">
        <label for={`evidence-${d.id}`}>Your evidence (what happened, delivery, contact with the customer)</label>
        <textarea
          id={`evidence-${d.id}`}
          name="text"
          required
          minlength={10}
          maxlength={EVIDENCE_LIMITS.maxTextChars}
          rows={6}
        />
      </div>
      <div class="field">
        <label for={`files-${d.id}`}>Files</label>
        <input id={`files-${d.id}`} type="file" name="files" multiple accept={EVIDENCE_LIMITS.types.join(',')} />
      </div>
      <div class="actions">
        <button type="submit">Submit evidence</button>
      </div>
    </form>
    <form class="stack" method="post" action={`/staff/disputes/${d.id}/accept`} data-testid="dispute-accept-form">
      <CsrfField token={ctx.csrf} />
      <label>
        <input type="checkbox" name="confirm" value="yes" required /> I accept this dispute: the{' '}
        {showMoney(d.amountMinor, d.currency)} go back to the cardholder and the order becomes dispute lost.
      </label>
      <div class="actions">
        <button type="submit" class="secondary">
          Accept the dispute
        </button>
      </div>
    </form>
  </>
);

/** The disputes of one order (on /staff/orders/:id). */
export const DisputeSection: FC<{
  disputes: readonly DisputeRow[];
  ctx: PageCtx;
  now: Date;
  error?: string | undefined;
}> = ({ disputes, ctx, now, error }) =>
  disputes.length === 0 ? null : (
    <>
      <h2>Disputes</h2>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {disputes.map((d) => (
        <section class="card" data-testid="staff-order-dispute">
          <p>
            <Status status={d.status} testid="dispute-status" /> {showMoney(d.amountMinor, d.currency)} disputed ·
            reason {d.reason.replace(/_/g, ' ')} · opened {formatWhen(d.openedAt)} · <Deadline d={d} now={now} />{' '}
            <span class="muted id">{d.id}</span>
          </p>
          {d.evidenceSubmittedAt ? (
            <p data-testid="dispute-evidence-sent">
              Evidence sent {formatWhen(d.evidenceSubmittedAt)}: {(d.evidenceFiles ?? []).map((f) => f.name).join(', ')}
            </p>
          ) : null}
          {d.acceptedAt ? <p>Accepted {formatWhen(d.acceptedAt)}.</p> : null}
          {d.status === 'needs_response' ? <AnswerForms d={d} ctx={ctx} /> : null}
        </section>
      ))}
    </>
  );

type ListRow = Awaited<ReturnType<typeof disputesByDeadline>>[number];

/** GET /staff/disputes: the open disputes, soonest deadline first. */
export const StaffDisputesPage: FC<{ ctx: PageCtx; rows: readonly ListRow[]; now: Date }> = ({ ctx, rows, now }) => (
  <Layout ctx={ctx} title="Disputes">
    <h1>Open disputes</h1>
    <StaffNav />
    <p>Awaiting a response or under review at the card issuer, the soonest evidence deadline first (times in UTC).</p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Due by</th>
            <th>Time left</th>
            <th>Status</th>
            <th>Order</th>
            <th>Customer</th>
            <th>Amount</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ dispute: d, orderNumber, email }) => (
            <tr data-testid="staff-dispute-row">
              <td>{formatWhen(d.evidenceDueBy)}</td>
              <td>{d.status === 'needs_response' ? timeLeft(d.evidenceDueBy, now) : 'evidence sent'}</td>
              <td>
                <Status status={d.status} />
              </td>
              <td>
                <a href={`/staff/orders/${d.orderId}`}>#{orderNumber}</a>
              </td>
              <td>{email ?? ''}</td>
              <td>{showMoney(d.amountMinor, d.currency)}</td>
              <td>{d.reason.replace(/_/g, ' ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    {rows.length === 0 ? <p>No open disputes.</p> : null}
  </Layout>
);
