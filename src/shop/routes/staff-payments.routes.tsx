// The staff console's payment pages: /staff/payments (every webhook and attempt, refused deliveries),
// /staff/orders/:id (an order's invoices, attempts, webhooks, refunds, deliveries and audit trail) with
// its refund actions, and /staff/refunds (awaiting approval, reconciliation findings). Mounted after
// the staff gate of staff.routes.tsx; each route also checks the role itself.
import { mailsForOrder } from '../mail/mail-status.tsx';
import type { Hono } from 'hono';
import { isDomainError } from '../../core/errors.ts';
import { parseCurrency, parseDecimal } from '../../core/money.ts';
import { approveRefund, rejectRefund } from '../commands/decide-refund.ts';
import { requestRefund } from '../commands/request-refund.ts';
import { ATTEMPT_STATUSES } from '../domain/attempt.machine.ts';
import { REFUND_STATUSES } from '../domain/refund.machine.ts';
import { DEFAULT_REFUND_APPROVAL_THRESHOLD_MINOR } from '../domain/refund.rule.ts';
import { StaffAttemptsPage, StaffReceiptsPage } from '../pages/staff-lists.page.tsx';
import { StaffOrderPage, type RefundForm } from '../pages/staff-order.page.tsx';
import { StaffPaymentsPage } from '../pages/staff-payments.page.tsx';
import { StaffRefundsPage } from '../pages/staff-refunds.page.tsx';
import { getUser } from '../storage/accounts.ts';
import { auditTrailForOrder } from '../storage/audit.ts';
import { disputesForOrder } from '../storage/disputes.ts';
import { listDeliveries } from '../storage/integration-deliveries.ts';
import { getInvoice, orderDetail, paidOrders } from '../storage/orders.ts';
import { paymentsOfInvoices, reconciliationFindings } from '../storage/payments.ts';
import { listRefunds, refundableMinor, refundsForOrder } from '../storage/refunds.ts';
import {
  peopleByIds,
  RECEIPT_VERDICTS,
  staffAttemptsPage,
  staffReceiptsPage,
  staffRefundsPage,
} from '../storage/staff-payment-lists.ts';
import { refusalOverview } from '../storage/webhook-refusals.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { denied, errorPage, pageCtx, readForm, requireUser } from './helpers.tsx';
import { httpAnswer } from './http-answer.ts';
import { pageLinks, DEFAULT_PAGE_SIZE } from './staff-list-query.ts';
import { readListQuery } from './staff.routes.tsx';

const REQUEST_KEY = /^[A-Za-z0-9_-]{16,64}$/;

/** The staff member, the response to send instead (login), or undefined (not staff: denied). */
function staffOnly(c: ShopContext) {
  const user = requireUser(c);
  if (user instanceof Response) return user;
  return user.role === 'staff' ? user : undefined;
}

/** Renders /staff/orders/:id, optionally with the refund form's values and error (and its status). */
type OrderPage = (c: ShopContext, orderId: string, form?: RefundForm, status?: 200 | 409 | 422) => Promise<Response>;

/** The staff order page's renderer for these deps and approval threshold. */
function orderPageRenderer(deps: ShopDeps, threshold: bigint): OrderPage {
  const db = deps.database.db;
  return async (c, orderId, form, status = 200) => {
    const staff = staffOnly(c);
    if (staff instanceof Response) return staff;
    if (!staff) return denied(c, deps);
    const detail = await orderDetail(db, orderId);
    if (!detail) return denied(c, deps);
    const invoiceIds = detail.invoices.map((i) => i.id);
    const [owner, { attempts, receipts }, refundRows, deliveries] = await Promise.all([
      getUser(db, detail.order.userId),
      paymentsOfInvoices(db, invoiceIds),
      refundsForOrder(db, orderId),
      listDeliveries(db, { orderId }),
    ]);
    const audit = await auditTrailForOrder(db, orderId, [
      ...invoiceIds,
      ...attempts.map((a) => a.id),
      ...refundRows.map((r) => r.id),
    ]);
    const paid = detail.invoices.find((i) => i.status === 'paid');
    const disputes = await disputesForOrder(db, orderId);
    const refundable = paid ? await refundableMinor(db, paid) : 0n;
    const ctx = await pageCtx(c, deps);
    const mails = await mailsForOrder(db, orderId);
    const people = await peopleByIds(db, [
      ...refundRows.flatMap((r) => [r.requestedBy, r.approvedBy]),
      ...audit.map((e) => e.actor),
    ]);
    const view = {
      ctx,
      staffId: staff.id,
      orderId,
      detail,
      ownerEmail: owner?.email,
      people,
      attempts,
      receipts,
      refundRows,
      audit,
      deliveries,
      mails,
      paid,
      refundable,
      threshold,
      form,
      disputes,
      now: deps.clock.now(),
      retention: deps.settings.retention,
    };
    return c.html(<StaffOrderPage {...view} />, status);
  };
}

/** Mounts the staff payment pages and refund actions (staff only; the /staff gate also applies). */
export function staffPaymentRoutes(
  app: Hono<ShopEnv>,
  deps: ShopDeps,
  options: { approvalThresholdMinor?: bigint } = {},
): void {
  const { database, clock } = deps;
  const db = database.db;
  const threshold =
    options.approvalThresholdMinor ??
    deps.settings.refundApprovalThresholdMinor ??
    DEFAULT_REFUND_APPROVAL_THRESHOLD_MINOR;
  const orderPage = orderPageRenderer(deps, threshold);

  app.get('/staff/payments', async (c) => {
    const first = { limit: DEFAULT_PAGE_SIZE };
    const [receipts, attempts, refused] = await Promise.all([
      staffReceiptsPage(db, first),
      staffAttemptsPage(db, first),
      refusalOverview(db, clock.now()),
    ]);
    return c.html(
      <StaffPaymentsPage
        ctx={await pageCtx(c, deps)}
        receipts={receipts}
        attempts={attempts}
        refused={refused}
        receiptDays={deps.settings.retention?.webhookReceiptDays}
      />,
    );
  });

  app.get('/staff/payments/attempts', async (c) => {
    const list = await readListQuery(c, deps, ATTEMPT_STATUSES);
    if (list instanceof Response) return list;
    const page = await staffAttemptsPage(db, list.query);
    const view = { ctx: await pageCtx(c, deps), params: list.params, statuses: ATTEMPT_STATUSES };
    const links = pageLinks('/staff/payments/attempts', list.params, page);
    return c.html(<StaffAttemptsPage {...view} {...links} rows={page.rows} />);
  });

  app.get('/staff/payments/webhooks', async (c) => {
    const list = await readListQuery(c, deps, RECEIPT_VERDICTS);
    if (list instanceof Response) return list;
    const page = await staffReceiptsPage(db, list.query);
    const view = { ctx: await pageCtx(c, deps), params: list.params, statuses: RECEIPT_VERDICTS };
    const links = pageLinks('/staff/payments/webhooks', list.params, page);
    const keptDays = deps.settings.retention?.webhookReceiptDays;
    return c.html(<StaffReceiptsPage {...view} {...links} rows={page.rows} keptDays={keptDays} />);
  });

  app.get('/staff/orders/:id', (c) => orderPage(c, c.req.param('id')));

  app.post('/staff/orders/:id/refunds', async (c) => {
    const staff = staffOnly(c);
    if (staff instanceof Response) return staff;
    if (!staff) return denied(c, deps);
    const orderId = c.req.param('id');
    const form = await readForm(c);
    const values = {
      amount: (form.amount ?? '').trim(),
      reason: form.reason ?? '',
      customerReason: form.customerReason ?? '',
    };
    const invoice = await getInvoice(db, form.invoiceId ?? '');
    if (!invoice || invoice.orderId !== orderId) return denied(c, deps);
    let amount;
    try {
      amount = parseDecimal(values.amount, parseCurrency(invoice.currency));
    } catch {
      return orderPage(c, orderId, { values, error: 'Enter an amount like 12.50.' }, 422);
    }
    try {
      const requestKey = REQUEST_KEY.test(form.requestKey ?? '') ? form.requestKey : undefined;
      const refund = await requestRefund(
        database,
        {
          invoiceId: invoice.id,
          amount,
          reason: values.reason,
          customerReason: form.customerReason,
          staffId: staff.id,
          approvalThresholdMinor: threshold,
          requestKey,
        },
        clock,
      );
      return c.redirect(`/staff/orders/${orderId}?refund=${refund.id}`, 303);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      const { status } = httpAnswer(err);
      if (status >= 500) return errorPage(c, deps, err);
      return orderPage(c, orderId, { values, error: err.message }, status === 409 ? 409 : 422);
    }
  });

  registerRefundDecisionRoutes(app, deps);
}

/** Approve or reject a refund awaiting a second staff member, and the /staff/refunds overview. */
function registerRefundDecisionRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock } = deps;
  const db = database.db;

  for (const action of ['approve', 'reject'] as const) {
    app.post(`/staff/refunds/:id/${action}`, async (c) => {
      const staff = staffOnly(c);
      if (staff instanceof Response) return staff;
      if (!staff) return denied(c, deps);
      try {
        const refund = await (action === 'approve' ? approveRefund : rejectRefund)(
          database,
          c.req.param('id'),
          staff.id,
          clock,
        );
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
    const list = await readListQuery(c, deps, REFUND_STATUSES);
    if (list instanceof Response) return list;
    const [waiting, recent, findings, paid] = await Promise.all([
      listRefunds(db, { status: 'awaiting_approval' }),
      staffRefundsPage(db, list.query),
      reconciliationFindings(db),
      paidOrders(db),
    ]);
    const people = await peopleByIds(
      db,
      [...waiting, ...recent.rows].flatMap((r) => [r.requestedBy, r.approvedBy]),
    );
    const view = { ctx: await pageCtx(c, deps), params: list.params, statuses: REFUND_STATUSES, people };
    return c.html(
      <StaffRefundsPage
        {...view}
        {...pageLinks('/staff/refunds', list.params, recent)}
        staffId={staff.id}
        waiting={waiting}
        recent={recent.rows}
        findings={findings}
        paidOrders={paid}
      />,
    );
  });
}
