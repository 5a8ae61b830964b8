/**
 * Asking the gateway instead of waiting for it: the return-URL status check and "check payment
 * status". Every answer goes through `applyGatewayEvent` — the webhook's code path — so a late
 * webhook, a poll and a feed entry about the same change fulfil the order exactly once.
 */
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import {
  acknowledgesExplicitly,
  eventFromSnapshot,
  type GatewayPort,
  type PaymentEvent,
} from '../domain/gateway.port.ts';
import { openAttemptsOf } from '../storage/payments.ts';
import { applyGatewayEvent, isRefusal, type ApplyOutcome } from './apply-gateway-event.ts';

export interface CheckPaymentDeps {
  readonly database: Database;
  readonly gateway: GatewayPort;
  readonly clock: Clock;
}

/**
 * An authorisation accepted here (from a status read or the feed) was not acknowledged by a 2xx to its
 * webhook, which never arrived: without telling the gateway, it voids the payment at the end of its
 * window while the order stays paid. Also on a duplicate first applied here rather than by a webhook
 * (a crash between that commit and this call). Throws when the gateway cannot be reached, so the job
 * retries (the feed's cursor is not saved past this page).
 */
export async function acknowledgeAccepted(
  deps: CheckPaymentDeps,
  event: PaymentEvent,
  outcome: ApplyOutcome,
): Promise<void> {
  // An explicit gateway's capture was queued with the verdict (verdict-calls.ts).
  if (event.status !== 'authorized' || !deps.gateway.acknowledgeSession || acknowledgesExplicitly(deps.gateway)) return;
  const ours =
    outcome.verdict === 'accepted' ||
    (outcome.verdict === 'duplicate' && !isRefusal(outcome) && outcome.firstSource !== 'webhook');
  if (ours) await deps.gateway.acknowledgeSession(event.sessionId);
}

/**
 * True when applying an event already applied (committed, first from `firstSource`) would do nothing,
 * so a reader may pass over it without a transaction: a duplicate changes nothing in the shop
 * (applyGatewayEvent), and the one thing done after it is acknowledgeAccepted above, for an
 * authorisation not first applied by a webhook. Kept beside it so that the two stay one rule.
 */
export function duplicateChangesNothing(event: PaymentEvent, firstSource: string | undefined): boolean {
  return firstSource !== undefined && (event.status !== 'authorized' || firstSource === 'webhook');
}

/** Reads one session at the gateway and applies what it says as a trusted, synthetic event. */
export async function checkSession(deps: CheckPaymentDeps, sessionId: string): Promise<ApplyOutcome> {
  const snapshot = await deps.gateway.getSession(sessionId);
  const event = eventFromSnapshot(snapshot);
  const outcome = await applyGatewayEvent(deps.database, event, deps.clock, {
    explicit: acknowledgesExplicitly(deps.gateway),
  });
  await acknowledgeAccepted(deps, event, outcome);
  return outcome;
}

/** Asks the gateway about every open attempt of an invoice (return URL, "check payment status"). */
export async function checkInvoicePayment(deps: CheckPaymentDeps, invoiceId: string): Promise<number> {
  const open = await openAttemptsOf(deps.database.db, invoiceId);
  let checked = 0;
  for (const a of open) {
    if (!a.gatewaySessionId) continue;
    await checkSession(deps, a.gatewaySessionId);
    checked++;
  }
  return checked;
}
