/**
 * "Pay now": the order's valid invoice (reused or issued), then a payment attempt and a hosted session
 * at the gateway. An attempt whose session can still be paid is reused, so repeated clicks do not
 * pile up sessions; a declined or expired one leaves room for a new attempt on the same invoice.
 */
import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { isDomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import type { AttemptEvent } from '../domain/attempt.machine.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';
import { appendAudit } from '../storage/audit.ts';
import { invoiceAmount, type InvoiceRow } from '../storage/orders.ts';
import { orders, paymentAttempts, invoices } from '../storage/tables.ts';
import { moveAttemptFrom, type AttemptPatch } from './attempt-transition.ts';
import { invoiceForPayment, newInvoice } from './invoice-for-payment.ts';
import { placeOrderWith, type WrittenWithOrder } from './place-order.ts';

// How long an attempt may sit in `created` (its session being requested) before a new click gives up on it.
const IN_FLIGHT_MS = 60_000;

export interface StartPaymentDeps {
  readonly database: Database;
  readonly gateway: GatewayPort;
  readonly clock: Clock;
  readonly publicUrl: string;
  readonly invoiceTtlSeconds: number;
}

/** Where to send the browser: the gateway's hosted page (or the invoice page when nothing is payable). */
export interface StartedPayment {
  readonly invoice: InvoiceRow;
  readonly attemptId: string;
  readonly redirectUrl: string;
  readonly reused: boolean;
  /** Set when the gateway could not make a session: the redirect is then the invoice page saying so. */
  readonly failed?: string;
}

/** Starts (or resumes) paying an order's invoice; throws DomainError (upstream.unavailable...) for the page. */
export async function startPayment(deps: StartPaymentDeps, orderId: string, userId: string): Promise<StartedPayment> {
  const { database, clock } = deps;
  const db = database.db;
  const now = clock.now();
  const invoice = await invoiceForPayment(db, orderId, userId, now, deps.invoiceTtlSeconds);

  // Under the invoice's row lock: two clicks at once find the same attempt instead of making two.
  const picked = await database.transaction(async (tx) => {
    await tx.select({ id: invoices.id }).from(invoices).where(eq(invoices.id, invoice.id)).for('update');
    const [open] = await tx
      .select()
      .from(paymentAttempts)
      .where(
        and(
          eq(paymentAttempts.invoiceId, invoice.id),
          inArray(paymentAttempts.status, ['created', 'session_created', 'pending']),
        ),
      )
      .orderBy(desc(paymentAttempts.createdAt))
      .limit(1);
    if (open && open.status !== 'created' && open.redirectUrl) return { reuse: open.redirectUrl, attemptId: open.id };
    // Still being created by another click: ask again with the same id (idempotent at the gateway: the same session).
    if (open && open.status === 'created' && now.getTime() - open.createdAt.getTime() < IN_FLIGHT_MS)
      return { attemptId: open.id };
    return { attemptId: await openAttempt(tx, invoice.id, userId, now) };
  });
  if (picked.reuse) return { invoice, attemptId: picked.attemptId, redirectUrl: picked.reuse, reused: true };
  // The payer reads the order's number on the payment page, not its internal id.
  const [order] = await db.select({ number: orders.number }).from(orders).where(eq(orders.id, invoice.orderId));
  return requestSession(deps, invoice, picked.attemptId, order?.number, userId);
}

/**
 * "Pay now" on the open cart: the order placed, its invoice issued and the payment attempt opened in
 * one transaction (none of them exists without the others), then the session asked for. Throws what
 * placeOrder throws (cart.empty, checkout.incomplete...) with nothing written.
 */
export async function placeOrderAndStartPayment(
  deps: StartPaymentDeps,
  userId: string,
): Promise<StartedPayment & { orderId: string }> {
  const now = deps.clock.now();
  // The order, its invoice and the attempt written in one statement (placeOrderWith's).
  const placed = await deps.database.transaction((tx) =>
    placeOrderWith(tx, userId, now, (order) => {
      const invoice = newInvoice(order, userId, now, deps.invoiceTtlSeconds);
      const attempt = newAttempt(tx, invoice.row.id, userId, now);
      return {
        writes: [{ write: tx.insert(invoices).values(invoice.row), audit: invoice.audit }, attempt],
        with: { invoice: invoice.row, attemptId: attempt.id },
      };
    }),
  );
  const { order, with: opened } = placed;
  return {
    orderId: order.id,
    ...(await requestSession(deps, opened.invoice, opened.attemptId, order.number, userId)),
  };
}

/** A new attempt on the invoice, in `created` until its session is known: its insert (not yet run) and audit entry. */
function newAttempt(tx: Executor, invoiceId: string, userId: string, now: Date): WrittenWithOrder & { id: string } {
  const id = newId('att', now);
  return {
    id,
    write: tx
      .insert(paymentAttempts)
      .values({ id, invoiceId, status: 'created', lastSequence: -1, createdAt: now, updatedAt: now }),
    audit: { actor: userId, action: 'attempt.created', subject: id, data: { invoiceId } },
  };
}

/** A new attempt on the invoice, in `created` until its session is known. */
async function openAttempt(tx: Executor, invoiceId: string, userId: string, now: Date): Promise<string> {
  const { id, write, audit } = newAttempt(tx, invoiceId, userId, now);
  await tx.execute(write.getSQL());
  await appendAudit(tx, audit, now);
  return id;
}

/** Asks the gateway for the attempt's hosted session and records it (or the failure) on the attempt. */
async function requestSession(
  deps: StartPaymentDeps,
  invoice: InvoiceRow,
  attemptId: string,
  orderNumber: number | undefined,
  userId: string,
): Promise<StartedPayment> {
  const { database, gateway, clock } = deps;
  const db = database.db;
  // Only from `created` (the machine allows these two events from nowhere else): each move is one
  // statement guarded by it, so the attempt is not read first, and a click that already moved on
  // (another tab, a webhook) is left as it is.
  const move = (event: AttemptEvent, to: string, patch: AttemptPatch, data: Record<string, unknown>, guard?: SQL) =>
    moveAttemptFrom(
      db,
      attemptId,
      'created',
      event,
      { actor: userId, now: clock.now(), action: `attempt.${to}`, data: { invoiceId: invoice.id, ...data } },
      patch,
      guard,
    );

  try {
    crashPoint('shop.payment.before_create_session');
    const session = await gateway.createSession({
      invoiceId: invoice.id,
      attemptId,
      amount: invoiceAmount(invoice),
      expiresAt: invoice.expiresAt,
      returnUrl: `${deps.publicUrl.replace(/\/+$/, '')}/invoices/${invoice.id}?from=gateway`,
      description: orderNumber ? `Order ${orderNumber}` : 'Order',
    });
    crashPoint('shop.payment.after_create_session');
    const created = { gatewaySessionId: session.sessionId, redirectUrl: session.redirectUrl };
    const sessionData = { sessionId: session.sessionId };
    // The session recorded, unless another attempt holds it already (the guard; without it the
    // session's unique index would refuse the write).
    const heldElsewhere = sql`exists (select 1 from ${paymentAttempts} as other
      where other.gateway_session_id = ${session.sessionId} and other.id <> ${attemptId})`;
    if (await move('session_created', 'session_created', created, sessionData, sql`not ${heldElsewhere}`))
      return { invoice, attemptId, redirectUrl: session.redirectUrl, reused: false };
    // A webhook may already have adopted this session for another attempt (it arrives before we
    // store it): then this attempt fails and the other's page is filled in.
    const [adopted] = await db
      .select()
      .from(paymentAttempts)
      .where(eq(paymentAttempts.gatewaySessionId, session.sessionId));
    if (adopted && adopted.id !== attemptId) {
      await move('session_failed', 'failed', {}, { reason: 'session adopted by another attempt', ...sessionData });
      await db
        .update(paymentAttempts)
        .set({ redirectUrl: session.redirectUrl })
        .where(eq(paymentAttempts.id, adopted.id));
      return { invoice, attemptId: adopted.id, redirectUrl: session.redirectUrl, reused: true };
    }
    // Otherwise this attempt left `created` meanwhile (a webhook moved it on): nothing to record.
    return { invoice, attemptId, redirectUrl: session.redirectUrl, reused: false };
  } catch (err) {
    const code = isDomainError(err) ? err.code : 'error';
    await move('session_failed', 'failed', { reason: code }, { reason: code });
    if (!isDomainError(err)) throw err;
    return {
      invoice,
      attemptId,
      redirectUrl: `/invoices/${invoice.id}?payment=unavailable`,
      reused: false,
      failed: code,
    };
  }
}

/** What "Pay now" needs: without a gateway the invoice page is where the browser goes. */
export interface PayDeps {
  database: Database;
  clock: Clock;
  gateway?: GatewayPort | undefined;
  settings: { publicUrl: string; invoiceTtlSeconds: number };
}

const startDeps = (deps: PayDeps, gateway: GatewayPort): StartPaymentDeps => ({
  database: deps.database,
  gateway,
  clock: deps.clock,
  publicUrl: deps.settings.publicUrl,
  invoiceTtlSeconds: deps.settings.invoiceTtlSeconds,
});

/** Where "Pay now" on an order sends the browser: the hosted page, or (no gateway configured) the invoice page. */
export async function payOrder(deps: PayDeps, orderId: string, userId: string): Promise<string> {
  if (!deps.gateway) {
    const invoice = await invoiceForPayment(
      deps.database.db,
      orderId,
      userId,
      deps.clock.now(),
      deps.settings.invoiceTtlSeconds,
    );
    return `/invoices/${invoice.id}`;
  }
  return (await startPayment(startDeps(deps, deps.gateway), orderId, userId)).redirectUrl;
}

/**
 * "Pay now" on the open cart: the order placed and paid as payOrder would, in one transaction up to
 * the gateway's session. Throws what placeOrder throws, with nothing written.
 */
export async function placeOrderAndPay(
  deps: PayDeps,
  userId: string,
): Promise<{ orderId: string; redirectUrl: string }> {
  if (deps.gateway) return placeOrderAndStartPayment(startDeps(deps, deps.gateway), userId);
  const now = deps.clock.now();
  const { order, with: invoice } = await deps.database.transaction((tx) =>
    placeOrderWith(tx, userId, now, (placed) => {
      const { row, audit } = newInvoice(placed, userId, now, deps.settings.invoiceTtlSeconds);
      return { writes: [{ write: tx.insert(invoices).values(row), audit }], with: row };
    }),
  );
  return { orderId: order.id, redirectUrl: `/invoices/${invoice.id}` };
}
