// The staff console's payments page: every webhook delivery received with its verdict and reason,
// and every payment attempt with its gateway session (issue 6, point 11). Mounted under /staff, so
// the staff gate of staff.routes.tsx applies.
import { desc } from 'drizzle-orm';
import type { Hono } from 'hono';
import { Layout, Status } from '../pages/layout.tsx';
import type { ShopDeps, ShopEnv } from '../routes/context.ts';
import { pageCtx } from '../routes/helpers.tsx';
import { paymentAttempts } from '../storage/tables.ts';
import { webhookReceipts } from './payments.schema.ts';

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';

/** Mounts GET /staff/payments (after the staff gate). */
export function staffPaymentRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  app.get('/staff/payments', async (c) => {
    const db = deps.database.db;
    const [receipts, attempts] = await Promise.all([
      db.select().from(webhookReceipts).orderBy(desc(webhookReceipts.id)).limit(200),
      db.select().from(paymentAttempts).orderBy(desc(paymentAttempts.createdAt)).limit(200),
    ]);
    return c.html(
      <Layout ctx={await pageCtx(c, deps)} title="Payments">
        <h1>Payments</h1>
        <h2>Webhooks received</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th>Received</th><th>Event</th><th>Type</th><th>Invoice</th><th>Verdict</th><th>Answer</th><th>Reason</th></tr></thead>
            <tbody>
              {receipts.map((r) => (
                <tr data-testid="webhook-receipt">
                  <td>{when(r.receivedAt)}</td>
                  <td>{r.eventId ?? '—'}</td>
                  <td>{r.eventType ?? ''}</td>
                  <td>{r.invoiceId ? <a href={`/invoices/${r.invoiceId}`}>{r.invoiceId}</a> : ''}</td>
                  <td><Status status={r.verdict} /></td>
                  <td>{r.httpStatus}</td>
                  <td>{r.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h2>Payment attempts</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th>Attempt</th><th>Invoice</th><th>Gateway session</th><th>Status</th><th>Reason</th><th>Updated</th></tr></thead>
            <tbody>
              {attempts.map((a) => (
                <tr data-testid="staff-attempt">
                  <td>{a.id}</td>
                  <td><a href={`/invoices/${a.invoiceId}`}>{a.invoiceId}</a></td>
                  <td>{a.gatewaySessionId ?? '—'}</td>
                  <td><Status status={a.status} /></td>
                  <td>{a.reason ?? ''}</td>
                  <td>{when(a.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
    );
  });
}
