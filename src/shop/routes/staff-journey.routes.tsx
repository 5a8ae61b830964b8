// GET /staff/orders/:id/journey (staff only, behind the staff gate of staff.routes.tsx, and checked
// again here): the order's payments step by step, the shop's records merged with the gateway's journey
// of each session, asked through the payment port (an optional capability: the Stripe adapter has
// none, and the page then shows the shop's side and says so). While a payment is under way the page
// reloads every 2 s through an HTTP Refresh header: no script, nothing for the CSP to allow.
import type { Hono } from 'hono';
import type { JourneyStep } from '../../core/journey.ts';
import { StaffJourneyPage } from '../pages/staff-journey.page.tsx';
import { auditTrailForOrder } from '../storage/audit.ts';
import { reconciledNews, shopJourney } from '../storage/journey.ts';
import { orderDetail } from '../storage/orders.ts';
import { paymentsOfInvoices } from '../storage/payments.ts';
import { refundsForOrder } from '../storage/refunds.ts';
import type { ShopDeps, ShopEnv } from './context.ts';
import { denied, pageCtx, requireUser } from './helpers.tsx';

const REFRESH_SECONDS = 2;
// Attempts the gateway may still move (an authorised one is waiting for its capture news).
const OPEN_ATTEMPTS = ['created', 'session_created', 'pending', 'paid'];

/** The gateway's part of each session, or why it is missing; settled only when every session is. */
async function gatewayPart(deps: ShopDeps, sessionIds: readonly string[]) {
  const steps: JourneyStep[] = [];
  let settled = true;
  const port = deps.gateway;
  if (!port?.paymentJourney)
    return {
      steps,
      settled,
      note: sessionIds.length
        ? "The gateway's and the bank's part is not available from this gateway (Stripe exposes no such view): the diagram shows the shop's side."
        : undefined,
    };
  const missing: string[] = [];
  let bankMissing = false;
  for (const id of sessionIds) {
    try {
      const j = await port.paymentJourney(id);
      steps.push(...j.steps);
      settled &&= j.settled;
      bankMissing ||= j.bank === 'unavailable';
    } catch (err) {
      deps.log.warn({ sessionId: id, err }, "the gateway's journey could not be read");
      missing.push(id);
      settled = false;
    }
  }
  const notes = [
    missing.length ? `The gateway's part of ${missing.join(', ')} could not be read just now.` : '',
    bankMissing ? "The gateway could not read the bank's records just now." : '',
  ].filter(Boolean);
  return { steps, settled, note: notes.length ? notes.join(' ') : undefined };
}

/** Mounts the journey page (after the staff gate). */
export function staffJourneyRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const db = deps.database.db;
  app.get('/staff/orders/:id/journey', async (c) => {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    if (user.role !== 'staff') return denied(c, deps);
    const orderId = c.req.param('id');
    const detail = await orderDetail(db, orderId);
    if (!detail) return denied(c, deps);
    const invoiceIds = detail.invoices.map((i) => i.id);
    const [{ attempts, receipts }, refundRows] = await Promise.all([
      paymentsOfInvoices(db, invoiceIds),
      refundsForOrder(db, orderId),
    ]);
    const sessionIds = attempts.flatMap((a) => (a.gatewaySessionId ? [a.gatewaySessionId] : []));
    const [audit, reconciled] = await Promise.all([
      auditTrailForOrder(db, orderId, [...invoiceIds, ...attempts.map((a) => a.id), ...refundRows.map((r) => r.id)]),
      reconciledNews(db, sessionIds),
    ]);
    const own = shopJourney({ audit, receipts, reconciled, invoices: detail.invoices });
    const gateway = await gatewayPart(deps, sessionIds);
    const settled = gateway.settled && !attempts.some((a) => OPEN_ATTEMPTS.includes(a.status));
    if (!settled) c.header('refresh', String(REFRESH_SECONDS));
    return c.html(
      <StaffJourneyPage
        ctx={await pageCtx(c, deps)}
        orderId={orderId}
        steps={[...own, ...gateway.steps]}
        settled={settled}
        refreshSeconds={REFRESH_SECONDS}
        gatewayNote={gateway.note}
      />,
    );
  });
}
