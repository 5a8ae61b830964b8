/**
 * Asking the gateway instead of waiting for it: the return-URL status check, "check payment status",
 * reconciliation of attempts pending too long, and the event feed read from a stored cursor. Every
 * answer goes through `applyGatewayEvent` — the webhook's code path — so a late webhook, a poll and a
 * feed entry about the same change fulfil the order exactly once.
 */
import { and, asc, eq, inArray, lte } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import type { Database } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import { publish } from '../../platform/realtime/index.ts';
import { enqueueMail } from '../mail/outbox.ts';
import { applyInvoiceEvent } from '../storage/orders.ts';
import { invoices, paymentAttempts } from '../storage/tables.ts';
import { applyGatewayEvent, type ApplyOutcome } from './apply-gateway-event.ts';
import { eventFromSnapshot, type PaymentEvent, type ShopGateway } from './gateway-events.ts';
import { paymentState } from './payments.schema.ts';

export interface ReconcileDeps {
  readonly database: Database;
  readonly gateway: ShopGateway;
  readonly clock: Clock;
}

export const CANCEL_SESSION_TASK = 'shop.payment.cancel_session';
const FEED_CURSOR_KEY = 'gateway.events.cursor';
const OPEN_ATTEMPT: string[] = ['session_created', 'pending'];

/**
 * An authorisation accepted here (from a status read or the feed) was not acknowledged by a 2xx to its
 * webhook, which never arrived: without telling the gateway, it voids the payment at the end of its
 * window while the order stays paid. Also on a duplicate first applied here rather than by a webhook
 * (a crash between that commit and this call). Throws when the gateway cannot be reached, so the job
 * retries (the feed's cursor is not saved past this page).
 */
async function acknowledgeAccepted(deps: ReconcileDeps, event: PaymentEvent, outcome: ApplyOutcome): Promise<void> {
  if (event.status !== 'authorized' || !deps.gateway.acknowledgeSession) return;
  const ours = outcome.verdict === 'accepted' || (outcome.verdict === 'duplicate' && outcome.httpStatus === 200 && outcome.firstSource !== 'webhook');
  if (ours) await deps.gateway.acknowledgeSession(event.sessionId);
}

/** Reads one session at the gateway and applies what it says as a trusted, synthetic event. */
export async function checkSession(deps: ReconcileDeps, sessionId: string): Promise<ApplyOutcome> {
  const snapshot = await deps.gateway.getSession(sessionId);
  const event = eventFromSnapshot(snapshot);
  const outcome = await applyGatewayEvent(deps.database, event, deps.clock);
  await acknowledgeAccepted(deps, event, outcome);
  return outcome;
}

/** Asks the gateway about every open attempt of an invoice (return URL, "check payment status"). */
export async function checkInvoicePayment(deps: ReconcileDeps, invoiceId: string): Promise<number> {
  const open = await deps.database.db
    .select()
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.invoiceId, invoiceId), inArray(paymentAttempts.status, OPEN_ATTEMPT)));
  let checked = 0;
  for (const a of open) {
    if (!a.gatewaySessionId) continue;
    await checkSession(deps, a.gatewaySessionId);
    checked++;
  }
  return checked;
}

/** Polls attempts still open after `ageSeconds` (a webhook may have been lost). */
export async function reconcilePendingAttempts(deps: ReconcileDeps, ageSeconds: number, limit = 100): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - ageSeconds * 1000);
  const stale = await deps.database.db
    .select()
    .from(paymentAttempts)
    .where(and(inArray(paymentAttempts.status, OPEN_ATTEMPT), lte(paymentAttempts.updatedAt, before)))
    .orderBy(asc(paymentAttempts.updatedAt))
    .limit(limit);
  let n = 0;
  for (const a of stale) {
    if (!a.gatewaySessionId) continue;
    await checkSession(deps, a.gatewaySessionId);
    n++;
  }
  return n;
}

/** Reads the gateway's event feed from the stored cursor and applies each event; returns how many were read. */
export async function readEventFeed(deps: ReconcileDeps, maxPages = 20): Promise<number> {
  const db = deps.database.db;
  const [row] = await db.select().from(paymentState).where(eq(paymentState.key, FEED_CURSOR_KEY));
  let cursor = row?.value ?? null;
  let read = 0;
  for (let page = 0; page < maxPages; page++) {
    const result = await deps.gateway.listEvents(cursor);
    for (const event of result.events) await acknowledgeAccepted(deps, event, await applyGatewayEvent(deps.database, event, deps.clock));
    if (result.events.length) crashPoint('shop.reconcile.after_apply');
    read += result.events.length;
    if (result.nextCursor && result.nextCursor !== cursor) {
      cursor = result.nextCursor;
      // Saved after the page is applied: a crash re-reads it, and the dedupe table makes that harmless.
      await db
        .insert(paymentState)
        .values({ key: FEED_CURSOR_KEY, value: cursor, updatedAt: deps.clock.now() })
        .onConflictDoUpdate({ target: paymentState.key, set: { value: cursor, updatedAt: deps.clock.now() } });
    }
    if (!result.hasMore) break;
  }
  return read;
}

/** One cycle of the recurring reconciliation job: polls attempts open longer than the age, then reads the event feed. */
export async function reconcileOnce(deps: ReconcileDeps, options: { pendingAgeSeconds: number }): Promise<{ polled: number; read: number }> {
  const polled = await reconcilePendingAttempts(deps, options.pendingAgeSeconds);
  // Until caught up, not a fixed number of pages: a cap would leave whatever the gateway wrote beyond
  // it (more than 2,000 events between two cycles) for later cycles, and a shop producing more than
  // that per period would never catch up. The cursor is saved after every page; the lease's heartbeat
  // keeps a long cycle the node's own.
  const read = await readEventFeed(deps, Number.POSITIVE_INFINITY);
  return { polled, read };
}

/** Expires open invoices past their expiry, and queues the cancellation of their open gateway sessions. */
export async function expireInvoices(deps: Pick<ReconcileDeps, 'database' | 'clock'>, limit = 100): Promise<string[]> {
  const now = deps.clock.now();
  const due = await deps.database.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.status, 'open'), lte(invoices.expiresAt, now)))
    .limit(limit);
  const expired: string[] = [];
  for (const { id } of due) {
    await deps.database.transaction(async (tx) => {
      const [inv] = await tx.select().from(invoices).where(eq(invoices.id, id)).for('update');
      // Paid (or closed) meanwhile by a webhook that won the race: nothing to expire.
      if (!inv || inv.status !== 'open') return;
      const { invoice } = await applyInvoiceEvent(tx, id, 'expire', 'system:expiry', now);
      await enqueueMail(tx, { kind: 'invoice_expired', subjectId: id, orderId: invoice.orderId, invoiceId: id }, now); // mail: expiry notice
      const open = await tx.select().from(paymentAttempts).where(and(eq(paymentAttempts.invoiceId, id), inArray(paymentAttempts.status, OPEN_ATTEMPT)));
      for (const a of open) {
        if (a.gatewaySessionId) await enqueue(tx, { task: CANCEL_SESSION_TASK, payload: { sessionId: a.gatewaySessionId }, key: `cancel:${a.gatewaySessionId}`, maxAttempts: 10 }, deps.clock);
      }
      await publish(tx, `invoice:${id}`, { invoiceId: id, status: invoice.status }, deps.clock);
      expired.push(id);
    });
  }
  return expired;
}

/** The cancel job: a session already past `created` cannot be cancelled; the intake refuses its authorisation. */
export async function cancelGatewaySession(deps: ReconcileDeps, payload: unknown): Promise<void> {
  const sessionId = (payload as { sessionId?: unknown })?.sessionId;
  if (typeof sessionId !== 'string') return;
  try {
    await deps.gateway.cancelSession(sessionId);
  } catch (err) {
    const status = (err as { details?: { status?: number } }).details?.status;
    if (status === 409 || status === 404) return;
    throw err;
  }
  await checkSession(deps, sessionId);
}
