/**
 * The recurring reconciliation job and the session-cancel job: attempts pending too long are polled,
 * and the gateway's event feed is read from a stored cursor. Every answer goes through
 * `applyGatewayEvent` — the webhook's code path — so a late webhook, a poll and a feed entry about
 * the same change fulfil the order exactly once.
 */
import { crashPoint } from '../../platform/crash-points.ts';
import {
  acknowledgeAccepted,
  checkSession,
  duplicateChangesNothing,
  type CheckPaymentDeps,
} from '../commands/check-payment.ts';
import { applyDisputeEvent } from '../commands/apply-dispute-event.ts';
import { applyGatewayEvent } from '../commands/apply-gateway-event.ts';
import { reconcileOpenDisputes } from './reconcile-disputes.ts';
import { acknowledgesExplicitly } from '../domain/gateway.port.ts';
import { appliedEventSources, readPaymentState, savePaymentState, staleOpenAttempts } from '../storage/payments.ts';

export type ReconcileDeps = CheckPaymentDeps;

export const RECONCILE_TASK = 'shop.payment.reconcile';
export const FEED_CURSOR_KEY = 'gateway.events.cursor';

/** Polls attempts still open after `ageSeconds` (a webhook may have been lost). */
export async function reconcilePendingAttempts(deps: ReconcileDeps, ageSeconds: number, limit = 100): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - ageSeconds * 1000);
  const stale = await staleOpenAttempts(deps.database.db, before, limit);
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
  let cursor = await readPaymentState(db, FEED_CURSOR_KEY);
  let read = 0;
  for (let page = 0; page < maxPages; page++) {
    const result = await deps.gateway.listEvents(cursor);
    const applied = await appliedEventSources(
      db,
      result.events.map((e) => e.id),
    );
    for (const event of result.events) {
      // Most of the feed is news the webhooks brought first: passed over without a transaction of its own.
      if (duplicateChangesNothing(event, applied.get(event.id))) continue;
      await acknowledgeAccepted(
        deps,
        event,
        await applyGatewayEvent(deps.database, event, deps.clock, { explicit: acknowledgesExplicitly(deps.gateway) }),
      );
    }
    for (const news of result.disputes ?? []) await applyDisputeEvent(deps.database, news, deps.clock);
    if (result.events.length) crashPoint('shop.reconcile.after_apply');
    read += result.events.length + (result.disputes?.length ?? 0);
    if (result.nextCursor && result.nextCursor !== cursor) {
      cursor = result.nextCursor;
      // Saved after the page is applied: a crash re-reads it, and the dedupe table makes that harmless.
      await savePaymentState(db, FEED_CURSOR_KEY, cursor, deps.clock.now());
    }
    if (!result.hasMore) break;
  }
  return read;
}

/** Events waiting in the feed after the stored cursor (one page, nothing applied, the cursor kept): what a dry run reports. */
export async function peekEventFeed(deps: ReconcileDeps, limit = 100): Promise<{ waiting: number; more: boolean }> {
  const page = await deps.gateway.listEvents(await readPaymentState(deps.database.db, FEED_CURSOR_KEY), limit);
  return { waiting: page.events.length, more: page.hasMore };
}

/** One cycle of the recurring reconciliation job: polls attempts open longer than the age, then reads the event feed. */
export async function reconcileOnce(
  deps: ReconcileDeps,
  options: { pendingAgeSeconds: number },
): Promise<{ polled: number; read: number; disputes: number }> {
  const polled = await reconcilePendingAttempts(deps, options.pendingAgeSeconds);
  const disputes = await reconcileOpenDisputes(deps);
  // Until caught up, not a fixed number of pages: a cap would leave whatever the gateway wrote beyond
  // it (more than 2,000 events between two cycles) for later cycles, and a shop producing more than
  // that per period would never catch up. The cursor is saved after every page; the lease's heartbeat
  // keeps a long cycle the node's own.
  const read = await readEventFeed(deps, Number.POSITIVE_INFINITY);
  return { polled, read, disputes };
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

/** The capture job of an explicit gateway: captures an accepted authorisation, then reads what it became (captured, or voided meanwhile: reversed). */
export async function captureGatewaySession(deps: ReconcileDeps, payload: unknown): Promise<void> {
  const sessionId = (payload as { sessionId?: unknown })?.sessionId;
  if (typeof sessionId !== 'string' || !deps.gateway.captureSession) return;
  await deps.gateway.captureSession(sessionId);
  await checkSession(deps, sessionId);
}

/** The refusal job of an explicit gateway: releases a refused authorisation (never captured). */
export async function refuseGatewaySession(deps: ReconcileDeps, payload: unknown): Promise<void> {
  const sessionId = (payload as { sessionId?: unknown })?.sessionId;
  if (typeof sessionId !== 'string' || !deps.gateway.refuseSession) return;
  await deps.gateway.refuseSession(sessionId);
}
