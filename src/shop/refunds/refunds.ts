// Refunds in storage: request (under the invoice's row lock, so that concurrent requests can never
// reserve more than was captured), approval by a second staff member, execution at the gateway as a
// job after the refund row commits, and the gateway's news. Every status change writes its audit
// entry, and a real-time message on the invoice's room, in the same transaction; a refund that
// succeeds tells the customer, and the last one makes the invoice (and so the order) refunded.
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { formatMoney, money, parseCurrency, toJSON, type Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import { publish } from '../../platform/realtime/index.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { appendAudit } from '../storage/audit.ts';
import { applyInvoiceEvent, type InvoiceRow } from '../storage/orders.ts';
import { invoices, orders, paymentAttempts } from '../storage/tables.ts';
import { refundMachine, RESERVING_STATUSES, type RefundEvent, type RefundStatus } from './refund.machine.ts';
import { checkApprover, decideRefundRequest, refundReason } from './refund.rule.ts';
import { customerNotifications, refunds } from './refunds.schema.ts';

export type RefundRow = typeof refunds.$inferSelect;
export type NotificationRow = typeof customerNotifications.$inferSelect;

/** The job that asks the gateway to execute a refund: `{ refundId }`. */
export const REFUND_EXECUTE_TASK = 'shop.refund.execute';
/** Attempts before a refund the gateway never answered is given up as failed. */
export const REFUND_EXECUTE_MAX_ATTEMPTS = 12;

/** A refund row's amount as Money. */
export function refundAmount(row: Pick<RefundRow, 'amountMinor' | 'currency'>): Money {
  return money(row.amountMinor, parseCurrency(row.currency));
}

const fixedClock = (now: Date): Clock => ({ now: () => now });

async function lockInvoice(tx: Executor, invoiceId: string): Promise<InvoiceRow | undefined> {
  const [row] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId)).for('update');
  return row;
}

async function reservedMinor(tx: Executor, invoiceId: string): Promise<bigint> {
  const rows = await tx.select({ minor: refunds.amountMinor }).from(refunds).where(and(eq(refunds.invoiceId, invoiceId), inArray(refunds.status, [...RESERVING_STATUSES])));
  return rows.reduce((s, r) => s + r.minor, 0n);
}

/** Moves a refund by one event of its machine (conditional on the status read), with audit and real-time message. */
async function moveRefund(tx: Executor, row: RefundRow, event: RefundEvent, actor: string, now: Date, patch: Partial<Pick<RefundRow, 'approvedBy' | 'gatewayRefundId' | 'failure'>> = {}): Promise<RefundRow> {
  const next = refundMachine.apply(row.status, event).state;
  const [updated] = await tx.update(refunds).set({ status: next, updatedAt: now, ...patch }).where(and(eq(refunds.id, row.id), eq(refunds.status, row.status))).returning();
  if (!updated) throw new DomainError('state.illegal_transition', { status: row.status, event });
  await appendAudit(tx, { actor, action: `refund.${event}`, subject: row.id, data: { from: row.status, to: next, invoiceId: row.invoiceId, orderId: row.orderId, amountMinor: row.amountMinor.toString(), currency: row.currency, ...patch } }, now);
  await announce(tx, updated, now);
  if (next === 'succeeded') await notifyRefunded(tx, updated, now);
  return updated;
}

async function announce(tx: Executor, row: RefundRow, now: Date): Promise<void> {
  await publish(tx, `invoice:${row.invoiceId}`, { invoiceId: row.invoiceId, refund: { id: row.id, status: row.status, amount: { ...toJSON(refundAmount(row)) } } }, fixedClock(now));
}

async function notifyRefunded(tx: Executor, row: RefundRow, now: Date): Promise<void> {
  const [order] = await tx.select({ userId: orders.userId }).from(orders).where(eq(orders.id, row.orderId));
  await tx.insert(customerNotifications).values({
    userId: order!.userId,
    orderId: row.orderId,
    kind: 'refund.succeeded',
    message: `${formatMoney(refundAmount(row))} has been refunded to your card for this order (${row.reason}).`,
    createdAt: now,
  });
  await enqueueMail(tx, { kind: 'refund', subjectId: row.id, orderId: row.orderId, invoiceId: row.invoiceId }, now); // mail: refund notice
}

/** When the refunds that succeeded (or the gateway's refunded total) cover the invoice, it becomes refunded and the order follows. */
async function settleInvoice(tx: Executor, invoiceId: string, actor: string, now: Date, gatewayRefundedMinor?: bigint): Promise<void> {
  const [invoice] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId));
  if (!invoice || invoice.status !== 'paid') return;
  const succeeded = (await tx.select({ minor: refunds.amountMinor }).from(refunds).where(and(eq(refunds.invoiceId, invoiceId), eq(refunds.status, 'succeeded')))).reduce((s, r) => s + r.minor, 0n);
  if (succeeded >= invoice.amountMinor || (gatewayRefundedMinor ?? 0n) >= invoice.amountMinor) {
    const { invoice: after } = await applyInvoiceEvent(tx, invoiceId, 'refund', actor, now);
    await publish(tx, `invoice:${invoiceId}`, { invoiceId, status: after.status }, fixedClock(now));
  }
}

/**
 * Staff request a refund of a paid invoice: full or partial, with a reason. Above the approval
 * threshold it waits for a second staff member; otherwise it is queued for the gateway at once.
 */
export async function requestRefund(
  database: Database,
  input: { invoiceId: string; amount: Money; reason: string | undefined; staffId: string; approvalThresholdMinor: bigint; requestKey?: string | undefined },
  clock: Clock,
): Promise<RefundRow> {
  const reason = refundReason(input.reason);
  const now = clock.now();
  return database.transaction(async (tx) => {
    // The row lock serialises every request for this invoice: the sum below cannot go stale.
    const invoice = await lockInvoice(tx, input.invoiceId);
    if (!invoice) throw new DomainError('not_found', { resource: 'invoice' });
    if (input.requestKey) {
      // The same form submitted again (double click, resend): the refund it already made, not a second one.
      // Read under the invoice's lock, so racing copies see the first one's commit.
      const [same] = await tx.select().from(refunds).where(eq(refunds.requestKey, input.requestKey));
      if (same && same.invoiceId !== invoice.id) throw new DomainError('validation.failed', { field: 'requestKey', reason: 'belongs to another invoice\'s refund form' });
      if (same) return same;
    }
    const [attempt] = await tx
      .select({ sessionId: paymentAttempts.gatewaySessionId })
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.invoiceId, invoice.id), inArray(paymentAttempts.status, ['paid', 'captured'])))
      .orderBy(desc(paymentAttempts.updatedAt))
      .limit(1);
    if (invoice.status === 'paid' && !attempt?.sessionId) throw new DomainError('refund.not_allowed', { reason: 'no captured gateway session' });
    const decision = decideRefundRequest({
      invoiceStatus: invoice.status,
      captured: money(invoice.amountMinor, parseCurrency(invoice.currency)),
      reserved: money(await reservedMinor(tx, invoice.id), parseCurrency(invoice.currency)),
      requested: input.amount,
      approvalThresholdMinor: input.approvalThresholdMinor,
    });
    const [row] = await tx
      .insert(refunds)
      .values({ id: newId('ref', now), invoiceId: invoice.id, orderId: invoice.orderId, sessionId: attempt!.sessionId!, amountMinor: input.amount.minor, currency: input.amount.currency, reason, status: decision.status, requestedBy: input.staffId, requestKey: input.requestKey ?? null, createdAt: now, updatedAt: now })
      .returning();
    await appendAudit(tx, { actor: input.staffId, action: 'refund.requested', subject: row!.id, data: { to: row!.status, invoiceId: invoice.id, orderId: invoice.orderId, amountMinor: row!.amountMinor.toString(), currency: row!.currency, reason } }, now);
    await announce(tx, row!, now);
    if (row!.status === 'pending') await enqueueExecution(tx, row!.id, clock);
    return row!;
  });
}

async function enqueueExecution(tx: Executor, refundId: string, clock: Clock): Promise<void> {
  await enqueue(tx, { task: REFUND_EXECUTE_TASK, payload: { refundId }, key: `refund:${refundId}`, maxAttempts: REFUND_EXECUTE_MAX_ATTEMPTS }, clock);
}

async function lockRefund(tx: Executor, refundId: string): Promise<RefundRow> {
  const [peek] = await tx.select({ invoiceId: refunds.invoiceId }).from(refunds).where(eq(refunds.id, refundId));
  if (!peek) throw new DomainError('not_found', { resource: 'refund' });
  // Invoice first, then the refund: the same order as requests and gateway news, so no deadlock.
  await lockInvoice(tx, peek.invoiceId);
  const [row] = await tx.select().from(refunds).where(eq(refunds.id, refundId)).for('update');
  return row!;
}

/** A second, different staff member approves a refund above the threshold; it is queued for the gateway. */
export async function approveRefund(database: Database, refundId: string, staffId: string, clock: Clock): Promise<RefundRow> {
  const now = clock.now();
  return database.transaction(async (tx) => {
    const row = await lockRefund(tx, refundId);
    checkApprover(row, staffId);
    const updated = await moveRefund(tx, row, 'approve', staffId, now, { approvedBy: staffId });
    await enqueueExecution(tx, row.id, clock);
    return updated;
  });
}

/** A second staff member rejects a refund awaiting approval; its amount is released. */
export async function rejectRefund(database: Database, refundId: string, staffId: string, clock: Clock): Promise<RefundRow> {
  const now = clock.now();
  return database.transaction(async (tx) => {
    const row = await lockRefund(tx, refundId);
    checkApprover(row, staffId);
    return moveRefund(tx, row, 'reject', staffId, now, { approvedBy: staffId, failure: 'rejected by the approver' });
  });
}

/**
 * The job: asks the gateway to refund (Idempotency-Key = our refund id, so a retried job is one
 * refund) and records its answer. A network failure throws, and the job system retries with backoff.
 */
export async function executeRefund(deps: { database: Database; gateway: Pick<GatewayPort, 'createRefund'> | undefined; clock: Clock }, refundId: string, attempt: number): Promise<void> {
  const [row] = await deps.database.db.select().from(refunds).where(eq(refunds.id, refundId));
  // A retry after a failed call finds it submitted without the gateway's id: asking again is safe (same Idempotency-Key).
  if (!row || !(row.status === 'pending' || (row.status === 'submitted' && !row.gatewayRefundId))) return;
  if (row.status === 'pending') {
    // Submitted BEFORE the call, in its own commit: the gateway's news of this refund may overtake the
    // answer, and only a submitted refund may be adopted by it — never one still waiting in the queue
    // (else the news of one refund would mark another of the same amount succeeded, and that one would
    // never be executed: the shop would count a refund the payer never got).
    const submitted = await deps.database.transaction(async (tx) => {
      const current = await lockRefund(tx, refundId);
      return current.status === 'pending' ? moveRefund(tx, current, 'submit', 'gateway', deps.clock.now()) : undefined;
    });
    if (!submitted) return;
  }
  let result: Awaited<ReturnType<GatewayPort['createRefund']>>;
  try {
    if (!deps.gateway) throw new DomainError('config.invalid', { reason: 'no gateway configured (SHOP_GATEWAY_API_KEY)' });
    result = await deps.gateway.createRefund({ sessionId: row.sessionId, refundId: row.id, amount: refundAmount(row), reason: row.reason });
  } catch (err) {
    if (attempt < REFUND_EXECUTE_MAX_ATTEMPTS) throw err;
    result = { refundId: '', status: 'failed', reason: 'gateway_unreachable' };
  }
  const now = deps.clock.now();
  await deps.database.transaction(async (tx) => {
    const current = await lockRefund(tx, refundId);
    if (result.status === 'failed') {
      if (current.status === 'pending' || current.status === 'submitted') await moveRefund(tx, current, 'fail', 'gateway', now, { failure: result.reason ?? 'refused by the gateway' });
      return;
    }
    // The webhook may have been first (and adopted this refund or another of the same amount).
    const taken = (await tx.select({ id: refunds.id }).from(refunds).where(eq(refunds.gatewayRefundId, result.refundId)))[0];
    const patch = !current.gatewayRefundId && !taken ? { gatewayRefundId: result.refundId } : {};
    // Our gateway refund was taken by another submitted refund of the same amount: this one stays
    // submitted until the other refund's news arrives (it will adopt this one); never succeeded twice for one.
    if (current.status === 'submitted' && result.status === 'succeeded' && patch.gatewayRefundId) {
      await moveRefund(tx, current, 'succeed', 'gateway', now, patch);
      await settleInvoice(tx, current.invoiceId, 'gateway', now);
    } else if (patch.gatewayRefundId) {
      await tx.update(refunds).set({ ...patch, updatedAt: now }).where(eq(refunds.id, current.id));
    }
  });
}

/** The refund part of a gateway event (our gateway: `data.refund` of payment.partially_refunded / payment.refunded). */
export interface RefundNews {
  readonly id: string;
  readonly sessionId: string;
  readonly invoiceId: string;
  readonly refund?: { readonly id: string; readonly amount: Money; readonly refundedTotal: Money } | undefined;
}

/**
 * Applies the gateway's news of a refund in the caller's transaction (the webhook intake's, after
 * its dedupe): the matching refund succeeds; a refund made at the gateway itself is recorded; when
 * the gateway's refunded total covers the invoice, the invoice becomes refunded and the order follows.
 * Returns the refund touched, or undefined when the event carries no refund or names no invoice of ours.
 */
export async function applyRefundEvent(tx: Executor, event: RefundNews, now: Date): Promise<RefundRow | undefined> {
  const news = event.refund;
  if (!news || !/^inv_[0-9A-Za-z]{1,60}$/.test(event.invoiceId)) return undefined;
  const invoice = await lockInvoice(tx, event.invoiceId);
  if (!invoice || news.amount.currency !== invoice.currency) return undefined;
  // Refund news is about the payment this invoice captured: an invoice never paid, or a session that is
  // not one of its paid attempts, records nothing (a signed event is still checked like any other).
  if (invoice.status !== 'paid' && invoice.status !== 'refunded') return undefined;
  const [paidAttempt] = await tx
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.invoiceId, invoice.id), eq(paymentAttempts.gatewaySessionId, event.sessionId), inArray(paymentAttempts.status, ['paid', 'captured', 'refunded'])));
  if (!paidAttempt) return undefined;
  let [row] = await tx.select().from(refunds).where(eq(refunds.gatewayRefundId, news.id)).for('update');
  if (row && row.invoiceId !== invoice.id) return undefined;
  if (!row) {
    // The webhook overtook the job's answer: adopt our oldest submitted refund of this amount still waiting for it.
    [row] = await tx
      .select()
      .from(refunds)
      .where(and(eq(refunds.invoiceId, invoice.id), eq(refunds.sessionId, event.sessionId), eq(refunds.amountMinor, news.amount.minor), inArray(refunds.status, ['submitted', 'failed']), isNull(refunds.gatewayRefundId)))
      .orderBy(sql`case when ${refunds.status} = 'failed' then 1 else 0 end`, asc(refunds.createdAt))
      .limit(1)
      .for('update');
  }
  if (!row) {
    // Refunded at the gateway (its dashboard), not through the shop: recorded so that the totals stay
    // true — but never past what was captured (the sum of refunds never exceeds it).
    if ((await reservedMinor(tx, invoice.id)) + news.amount.minor > invoice.amountMinor) return undefined;
    [row] = await tx
      .insert(refunds)
      .values({ id: newId('ref', now), invoiceId: invoice.id, orderId: invoice.orderId, sessionId: event.sessionId, amountMinor: news.amount.minor, currency: news.amount.currency, reason: 'refunded at the gateway', status: 'succeeded', requestedBy: 'gateway', gatewayRefundId: news.id, createdAt: now, updatedAt: now })
      .returning();
    await appendAudit(tx, { actor: 'gateway', action: 'refund.recorded', subject: row!.id, data: { to: 'succeeded', invoiceId: invoice.id, orderId: invoice.orderId, amountMinor: news.amount.minor.toString(), currency: news.amount.currency, gatewayRefundId: news.id, eventId: event.id } }, now);
    await announce(tx, row!, now);
    await notifyRefunded(tx, row!, now);
  } else if (row.status !== 'succeeded') {
    row = await moveRefund(tx, row, 'succeed', 'gateway', now, row.gatewayRefundId ? {} : { gatewayRefundId: news.id });
  }
  await settleInvoice(tx, invoice.id, 'gateway', now, news.refundedTotal.minor);
  return row;
}

/** Refunds of one order, oldest first. */
export async function refundsForOrder(db: Executor, orderId: string): Promise<RefundRow[]> {
  return db.select().from(refunds).where(eq(refunds.orderId, orderId)).orderBy(asc(refunds.createdAt), asc(refunds.id));
}

/** Refunds, newest first, optionally of one status (staff console). */
export async function listRefunds(db: Executor, options: { status?: RefundStatus } = {}): Promise<RefundRow[]> {
  const q = db.select().from(refunds);
  return (options.status ? q.where(eq(refunds.status, options.status)) : q).orderBy(desc(refunds.createdAt), desc(refunds.id)).limit(200);
}

/** What is left to refund on an invoice (captured minus every reserving refund). */
export async function refundableMinor(db: Executor, invoice: Pick<InvoiceRow, 'id' | 'amountMinor' | 'status'>): Promise<bigint> {
  if (invoice.status !== 'paid') return 0n;
  return invoice.amountMinor - (await reservedMinor(db, invoice.id));
}

/** A customer's notifications, newest first, optionally about one order. */
export async function notificationsFor(db: Executor, userId: string, orderId?: string): Promise<NotificationRow[]> {
  const where = orderId ? and(eq(customerNotifications.userId, userId), eq(customerNotifications.orderId, orderId)) : eq(customerNotifications.userId, userId);
  return db.select().from(customerNotifications).where(where).orderBy(desc(customerNotifications.createdAt), desc(customerNotifications.id)).limit(50);
}
