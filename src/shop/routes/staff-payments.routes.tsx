// Staff console, per order (issue 6 points 8, 10, 11): its invoices with every payment attempt and
// every webhook received with its verdict, its refunds (request one; approve or reject one awaiting
// a second staff member), the integration deliveries of its status changes and its audit trail.
// /staff/refunds lists refunds awaiting approval and the reconciliation findings (paid at the gateway
// but not here, and the reverse). Complements /staff/payments (all webhooks and attempts).
import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, inArray, notInArray, or, sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { parseDecimal, parseCurrency } from '../../core/money.ts';
import { listDeliveries } from '../integrations/deliveries.ts';
import { CsrfField, Layout, Notice, Status, showMoney, type PageCtx } from '../pages/layout.tsx';
import { webhookReceipts } from '../payments/payments.schema.ts';
import { MailStatus } from '../mail/mail-status.tsx';
import { approveRefund, listRefunds, refundableMinor, refundApprovalThreshold, refundsForOrder, rejectRefund, requestRefund, type RefundRow } from '../refunds/index.ts';
import { orderDetail } from '../storage/orders.ts';
import { auditLog, invoices, orders, paymentAttempts, users } from '../storage/tables.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { denied, errorPage, pageCtx, readForm, requireUser } from './helpers.tsx';

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';

/** The audit entries about an order: the order, its invoices, attempts and refunds, or naming it in their data. */
export async function auditTrailForOrder(db: ShopDeps['database']['db'], orderId: string, subjects: readonly string[]) {
  return db
    .select()
    .from(auditLog)
    .where(or(inArray(auditLog.subject, [orderId, ...subjects]), sql`${auditLog.data}->>'orderId' = ${orderId}`))
    .orderBy(asc(auditLog.seq))
    .limit(500);
}

/** Reconciliation findings: attempts the gateway captured whose invoice is not paid here, and payments we accepted that the gateway voided (invoice reversed: check nothing shipped). */
export async function reconciliationFindings(db: ShopDeps['database']['db']) {
  const rows = await db
    .select({ attempt: paymentAttempts, invoiceStatus: invoices.status, orderId: invoices.orderId })
    .from(paymentAttempts)
    .innerJoin(invoices, eq(invoices.id, paymentAttempts.invoiceId))
    .where(or(and(inArray(paymentAttempts.status, ['paid', 'captured']), notInArray(invoices.status, ['paid', 'refunded'])), and(eq(paymentAttempts.status, 'voided'), inArray(invoices.status, ['paid', 'reversed']))))
    .orderBy(desc(paymentAttempts.updatedAt))
    .limit(200);
  return rows.map((r) => ({
    ...r,
    finding:
      r.attempt.status !== 'voided' ? 'paid at the gateway, not here'
      : r.invoiceStatus === 'reversed' ? 'accepted here, voided at the gateway: invoice reversed, order awaiting payment again (check nothing shipped)'
      : 'paid here, voided at the gateway',
  }));
}

/** Mounts /staff/orders/:id, its refund actions and /staff/refunds (staff only; the /staff gate also applies). */
export function staffOrderPaymentRoutes(app: Hono<ShopEnv>, deps: ShopDeps, options: { approvalThresholdMinor?: bigint } = {}): void {
  const { database, clock } = deps;
  const db = database.db;
  const threshold = options.approvalThresholdMinor ?? deps.settings.refundApprovalThresholdMinor ?? refundApprovalThreshold();

  function staffOnly(c: ShopContext) {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    return user.role === 'staff' ? user : undefined;
  }

  const RefundRows = (p: { rows: RefundRow[]; ctx: PageCtx; staffId: string }) => (
    <div class="table-wrap">
      <table>
        <thead><tr><th>Refund</th><th>Order</th><th>Requested</th><th>By</th><th>Reason</th><th>Status</th><th class="num">Amount</th><th></th></tr></thead>
        <tbody>
          {p.rows.map((r) => (
            <tr data-testid="staff-refund" data-refund={r.id}>
              <td>{r.id}</td>
              <td><a href={`/staff/orders/${r.orderId}`}>{r.orderId}</a></td>
              <td>{when(r.createdAt)}</td>
              <td>{r.requestedBy}{r.approvedBy ? ` · ${r.status === 'rejected' ? 'rejected' : 'approved'} by ${r.approvedBy}` : ''}</td>
              <td>{r.reason}{r.failure ? ` (${r.failure})` : ''}</td>
              <td><Status status={r.status} /></td>
              <td class="num">{showMoney(r.amountMinor, r.currency)}</td>
              <td>
                {r.status === 'awaiting_approval' && r.requestedBy !== p.staffId ? (
                  <span class="actions">
                    <form method="post" action={`/staff/refunds/${r.id}/approve`}><CsrfField token={p.ctx.csrf} /><button type="submit">Approve</button></form>
                    <form method="post" action={`/staff/refunds/${r.id}/reject`}><CsrfField token={p.ctx.csrf} /><button type="submit" class="secondary">Reject</button></form>
                  </span>
                ) : r.status === 'awaiting_approval' ? 'needs another staff member' : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );

  async function orderPage(c: ShopContext, orderId: string, form?: { values: Record<string, string>; error?: string; done?: string }, status: 200 | 409 | 422 = 200) {
    const staff = staffOnly(c);
    if (staff instanceof Response) return staff;
    if (!staff) return denied(c, deps);
    const detail = await orderDetail(db, orderId);
    if (!detail) return denied(c, deps);
    const invoiceIds = detail.invoices.map((i) => i.id);
    const [owner] = await db.select({ email: users.email }).from(users).where(eq(users.id, detail.order.userId));
    const attempts = invoiceIds.length ? await db.select().from(paymentAttempts).where(inArray(paymentAttempts.invoiceId, invoiceIds)).orderBy(asc(paymentAttempts.createdAt)) : [];
    const receipts = invoiceIds.length ? await db.select().from(webhookReceipts).where(inArray(webhookReceipts.invoiceId, invoiceIds)).orderBy(asc(webhookReceipts.id)) : [];
    const refundRows = await refundsForOrder(db, orderId);
    const audit = await auditTrailForOrder(db, orderId, [...invoiceIds, ...attempts.map((a) => a.id), ...refundRows.map((r) => r.id)]);
    const deliveries = await listDeliveries(db, { orderId });
    const paid = detail.invoices.find((i) => i.status === 'paid');
    const refundable = paid ? await refundableMinor(db, paid) : 0n;
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title={`Order ${orderId}`}>
        <h1>Order {orderId}</h1>
        <p>
          <Status status={detail.order.status} testid="staff-order-status" /> · {owner?.email} · total {showMoney(detail.order.totalMinor, detail.order.currency)} ·{' '}
          <a href={`/orders/${orderId}`}>customer view</a> · <a href="/staff/refunds">refunds</a>
        </p>
        {form?.done ? <Notice kind="ok">{form.done}</Notice> : null}

        <h2>Invoices and payment attempts</h2>
        {detail.invoices.map((inv) => (
          <section class="card" data-testid="staff-order-invoice">
            <p><a href={`/invoices/${inv.id}`}>{inv.id}</a> <Status status={inv.status} /> {showMoney(inv.amountMinor, inv.currency)} · issued {when(inv.createdAt)} · expires {when(inv.expiresAt)}</p>
            <div class="table-wrap">
              <table>
                <thead><tr><th>Attempt</th><th>Gateway session</th><th>Status</th><th>Reason</th><th>Updated</th></tr></thead>
                <tbody>
                  {attempts.filter((a) => a.invoiceId === inv.id).map((a) => (
                    <tr data-testid="staff-order-attempt"><td>{a.id}</td><td>{a.gatewaySessionId ?? '—'}</td><td><Status status={a.status} /></td><td>{a.reason ?? ''}</td><td>{when(a.updatedAt)}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
            <h3>Webhooks received</h3>
            <div class="table-wrap">
              <table>
                <thead><tr><th>Received</th><th>Event</th><th>Type</th><th>Verdict</th><th>Answer</th><th>Reason</th></tr></thead>
                <tbody>
                  {receipts.filter((r) => r.invoiceId === inv.id).map((r) => (
                    <tr data-testid="staff-order-webhook"><td>{when(r.receivedAt)}</td><td>{r.eventId ?? '—'}</td><td>{r.eventType ?? ''}</td><td><Status status={r.verdict} /></td><td>{r.httpStatus}</td><td>{r.reason ?? ''}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        ))}

        <MailStatus db={db} orderId={orderId} />{/* mail: each mail's status */}
        <h2>Refunds</h2>
        <RefundRows rows={refundRows} ctx={ctx} staffId={staff.id} />
        {paid && refundable > 0n ? (
          <form class="stack card" method="post" action={`/staff/orders/${orderId}/refunds`}>
            <CsrfField token={ctx.csrf} />
            <input type="hidden" name="invoiceId" value={paid.id} />
            <input type="hidden" name="requestKey" value={randomBytes(18).toString('base64url')} />
            {form?.error ? <Notice kind="error">{form.error}</Notice> : null}
            <p>Up to {showMoney(refundable, paid.currency)} can be refunded. Above {showMoney(threshold, paid.currency)} a second staff member must approve.</p>
            <div class="field">
              <label for="amount">Amount ({paid.currency})</label>
              <input id="amount" name="amount" inputmode="decimal" required value={form?.values.amount ?? ''} />
            </div>
            <div class="field">
              <label for="reason">Reason (required)</label>
              <input id="reason" name="reason" required minlength={3} maxlength={500} value={form?.values.reason ?? ''} />
            </div>
            <div class="actions"><button type="submit">Refund</button></div>
          </form>
        ) : (
          <p>{paid ? 'Everything captured has been refunded or is being refunded.' : 'Nothing was captured for this order.'}</p>
        )}

        <h2>Integration deliveries</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th>Event</th><th>Endpoint</th><th>Status</th><th>Attempts</th><th>Last error</th><th>Next try</th></tr></thead>
            <tbody>
              {deliveries.map((d) => (
                <tr data-testid="staff-order-delivery"><td>{d.eventId}</td><td>{d.endpoint}</td><td><Status status={d.status} /></td><td>{d.attempts}</td><td>{d.lastError ?? ''}</td><td>{d.nextTryAt ? when(d.nextTryAt) : ''}</td></tr>
              ))}
            </tbody>
          </table>
        </div>

        <h2>Audit trail</h2>
        <p>Append-only and hash-chained; <code>npx tsx scripts/verify-audit.ts</code> verifies the whole chain.</p>
        <div class="table-wrap">
          <table>
            <thead><tr><th>#</th><th>At</th><th>Actor</th><th>Action</th><th>Subject</th><th>Data</th><th>Hash</th></tr></thead>
            <tbody>
              {audit.map((e) => (
                <tr data-testid="staff-order-audit"><td>{e.seq}</td><td>{when(e.at)}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.subject}</td><td><code>{JSON.stringify(e.data)}</code></td><td><code title={e.hash}>{e.hash.slice(0, 12)}…</code></td></tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
      status,
    );
  }

  app.get('/staff/orders/:id', (c) => orderPage(c, c.req.param('id')));

  app.post('/staff/orders/:id/refunds', async (c) => {
    const staff = staffOnly(c);
    if (staff instanceof Response) return staff;
    if (!staff) return denied(c, deps);
    const orderId = c.req.param('id');
    const form = await readForm(c);
    const values = { amount: (form.amount ?? '').trim(), reason: form.reason ?? '' };
    const [invoice] = await db.select().from(invoices).where(and(eq(invoices.id, form.invoiceId ?? ''), eq(invoices.orderId, orderId)));
    if (!invoice) return denied(c, deps);
    let amount;
    try {
      amount = parseDecimal(values.amount, parseCurrency(invoice.currency));
    } catch {
      return orderPage(c, orderId, { values, error: 'Enter an amount like 12.50.' }, 422);
    }
    try {
      const requestKey = /^[A-Za-z0-9_-]{16,64}$/.test(form.requestKey ?? '') ? form.requestKey : undefined;
      const refund = await requestRefund(database, { invoiceId: invoice.id, amount, reason: values.reason, staffId: staff.id, approvalThresholdMinor: threshold, requestKey }, clock);
      return c.redirect(`/staff/orders/${orderId}?refund=${refund.id}`, 303);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      const e = err as DomainError;
      if (e.status >= 500) return errorPage(c, deps, err);
      return orderPage(c, orderId, { values, error: e.message }, e.status === 409 ? 409 : 422);
    }
  });

  for (const action of ['approve', 'reject'] as const) {
    app.post(`/staff/refunds/:id/${action}`, async (c) => {
      const staff = staffOnly(c);
      if (staff instanceof Response) return staff;
      if (!staff) return denied(c, deps);
      try {
        const refund = await (action === 'approve' ? approveRefund : rejectRefund)(database, c.req.param('id'), staff.id, clock);
        return c.redirect(`/staff/orders/${refund.orderId}`, 303);
      } catch (err) {
        return errorPage(c, deps, err);
      }
    });
  }

  app.get('/staff/refunds', async (c) => {
    const staff = staffOnly(c);
    if (staff instanceof Response) return staff;
    if (!staff) return denied(c, deps);
    const [waiting, recent, findings, paidOrders] = await Promise.all([
      listRefunds(db, { status: 'awaiting_approval' }),
      listRefunds(db),
      reconciliationFindings(db),
      db.select().from(orders).where(inArray(orders.status, ['paid', 'refunded'])).orderBy(desc(orders.updatedAt)).limit(100),
    ]);
    const ctx = await pageCtx(c, deps);
    return c.html(
      <Layout ctx={ctx} title="Refunds">
        <h1>Refunds</h1>
        <h2>Awaiting a second staff member's approval</h2>
        <RefundRows rows={waiting} ctx={ctx} staffId={staff.id} />
        <h2>Reconciliation findings</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th>Finding</th><th>Attempt</th><th>Gateway session</th><th>Order</th><th>Invoice status</th><th>Updated</th></tr></thead>
            <tbody>
              {findings.map((f) => (
                <tr data-testid="staff-finding"><td>{f.finding}</td><td>{f.attempt.id} <Status status={f.attempt.status} /></td><td>{f.attempt.gatewaySessionId ?? '—'}</td><td><a href={`/staff/orders/${f.orderId}`}>{f.orderId}</a></td><td><Status status={f.invoiceStatus} /></td><td>{when(f.attempt.updatedAt)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
        <h2>Paid orders (refund from the order's page)</h2>
        <ul>
          {paidOrders.map((o) => (
            <li data-testid="staff-paid-order"><a href={`/staff/orders/${o.id}`}>{o.id}</a> <Status status={o.status} /> {showMoney(o.totalMinor, o.currency)}</li>
          ))}
        </ul>
        <h2>All refunds</h2>
        <RefundRows rows={recent} ctx={ctx} staffId={staff.id} />
      </Layout>,
    );
  });
}
