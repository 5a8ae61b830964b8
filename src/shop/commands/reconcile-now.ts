/**
 * The operator's reconciliation (`countersign reconcile`, `POST /ops/reconcile`): compares the shop's
 * recent payment attempts with their sessions at the gateway, through the gateway port (our gateway or
 * Stripe alike), and reports what differs (domain/reconciliation.rule.ts). A real run first does one
 * cycle of the recurring job (stale attempts polled, the event feed read) and then reads the status of
 * every difference whose attempt is still open — both through `applyGatewayEvent`, the webhook's path,
 * so nothing is written that a late webhook would not have written — and says which differences that
 * fixed. A dry run reads only: the comparison, how many stale attempts a cycle would poll, how many
 * events wait in the feed. The scope is bounded: attempts created in the last `days` or still open,
 * newest first, at most `limit`, one status read each.
 */
import { DomainError, isDomainError } from '../../core/errors.ts';
import { money, parseCurrency, type Money } from '../../core/money.ts';
import type { AttemptStatus } from '../domain/attempt.machine.ts';
import type { GatewaySide } from '../domain/reconciliation.rule.ts';
import { compareAttempt, fixableByStatusRead, type ReconciliationKind } from '../domain/reconciliation.rule.ts';
import { peekEventFeed, reconcileOnce } from '../jobs/reconcile.ts';
import {
  attemptsToReconcile,
  attemptsWithInvoices,
  countStaleOpenAttempts,
  type AttemptWithInvoice,
} from '../storage/payments.ts';
import { checkSession, type CheckPaymentDeps } from './check-payment.ts';

export interface ReconcileNowOptions {
  readonly dryRun: boolean;
  /** Attempts created within this many days (or still open) are compared. */
  readonly days: number;
  /** At most this many attempts, newest first. */
  readonly limit: number;
  /** A cycle polls open attempts unchanged for this long (SHOP_RECONCILE_PENDING_AGE_SECONDS). */
  readonly pendingAgeSeconds: number;
}

/** One difference between the shop and the gateway, and whether this run fixed it. */
export interface ReconcileFinding {
  readonly kind: ReconciliationKind;
  readonly why: string;
  readonly invoiceId: string;
  readonly orderId: string;
  readonly attemptId: string;
  readonly sessionId: string;
  readonly amount: Money;
  readonly shop: { readonly invoiceStatus: string; readonly attemptStatus: string };
  readonly gateway: { readonly status: GatewaySide };
  /** After this run: fixed (both sides agree now), or what the operator still has to decide. */
  readonly fixed: boolean;
}

export interface ReconcileReport {
  readonly dryRun: boolean;
  readonly scope: { readonly since: Date; readonly days: number; readonly limit: number; readonly compared: number };
  /** Stale open attempts polled by the cycle (dry run: how many it would poll). */
  readonly polled: number;
  /** Feed events read and applied by the cycle (dry run: 0). */
  readonly eventsRead: number;
  /** Dry run: events waiting in the feed after the stored cursor (one page at most), and whether more wait. */
  readonly eventsWaiting: { readonly count: number; readonly more: boolean } | null;
  /** Sessions read again by this run to take news the shop had missed. */
  readonly statusReads: number;
  readonly findings: readonly ReconcileFinding[];
  /** Differences left after this run (the dry run fixes none). */
  readonly remaining: number;
}

const READS_AT_ONCE = 4;

/** The gateway's state of each session (`unknown` for one it does not know), a few reads at a time. */
async function gatewayStates(deps: CheckPaymentDeps, sessionIds: readonly string[]): Promise<Map<string, GatewaySide>> {
  const states = new Map<string, GatewaySide>();
  for (let i = 0; i < sessionIds.length; i += READS_AT_ONCE) {
    await Promise.all(
      sessionIds.slice(i, i + READS_AT_ONCE).map(async (id) => {
        try {
          states.set(id, (await deps.gateway.getSession(id)).status);
        } catch (err) {
          if (!isDomainError(err, 'not_found'))
            throw new DomainError('upstream.unavailable', { reason: 'the gateway did not answer a status read' });
          states.set(id, 'unknown');
        }
      }),
    );
  }
  return states;
}

/** The differences among these attempts, as the gateway sees them now. */
async function compare(deps: CheckPaymentDeps, rows: readonly AttemptWithInvoice[]) {
  const withSession = rows.filter((r) => r.attempt.gatewaySessionId);
  const states = await gatewayStates(
    deps,
    withSession.map((r) => r.attempt.gatewaySessionId!),
  );
  const now = deps.clock.now();
  return withSession.flatMap((r) => {
    const gateway = states.get(r.attempt.gatewaySessionId!)!;
    const shop = {
      invoiceStatus: r.invoiceStatus,
      attemptStatus: r.attempt.status as AttemptStatus,
      attemptUpdatedAt: r.attempt.updatedAt,
    };
    const difference = compareAttempt(shop, gateway, now);
    return difference ? [{ row: r, shop, gateway, difference }] : [];
  });
}

type Compared = Awaited<ReturnType<typeof compare>>[number];

function finding(c: Compared, fixed: boolean): ReconcileFinding {
  return {
    kind: c.difference.kind,
    why: c.difference.why,
    invoiceId: c.row.attempt.invoiceId,
    orderId: c.row.orderId,
    attemptId: c.row.attempt.id,
    sessionId: c.row.attempt.gatewaySessionId!,
    amount: money(c.row.amountMinor, parseCurrency(c.row.currency)),
    shop: { invoiceStatus: c.shop.invoiceStatus, attemptStatus: c.shop.attemptStatus },
    gateway: { status: c.gateway },
    fixed,
  };
}

/** Runs the operator's reconciliation: a comparison, and unless a dry run, one cycle and the fixes it allows. */
export async function reconcileNow(deps: CheckPaymentDeps, options: ReconcileNowOptions): Promise<ReconcileReport> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - options.days * 86_400_000);
  const rows = await attemptsToReconcile(deps.database.db, since, options.limit);
  const before = await compare(deps, rows);
  const scope = { since, days: options.days, limit: options.limit, compared: rows.length };
  if (options.dryRun) {
    const staleBefore = new Date(now.getTime() - options.pendingAgeSeconds * 1000);
    const waiting = await peekEventFeed(deps);
    return {
      dryRun: true,
      scope,
      polled: await countStaleOpenAttempts(deps.database.db, staleBefore, 100),
      eventsRead: 0,
      eventsWaiting: { count: waiting.waiting, more: waiting.more },
      statusReads: 0,
      findings: before.map((c) => finding(c, false)),
      remaining: before.length,
    };
  }
  const cycle = await reconcileOnce(deps, { pendingAgeSeconds: options.pendingAgeSeconds });
  // What the cycle left: an attempt still open whose news the gateway has is read and applied now.
  const ids = before.map((c) => c.row.attempt.id);
  let statusReads = 0;
  for (const r of await attemptsWithInvoices(deps.database.db, ids)) {
    if (!r.attempt.gatewaySessionId || !fixableByStatusRead({ attemptStatus: r.attempt.status as AttemptStatus }))
      continue;
    await checkSession(deps, r.attempt.gatewaySessionId);
    statusReads++;
  }
  const after = new Set(
    (await compare(deps, await attemptsWithInvoices(deps.database.db, ids))).map((c) => c.row.attempt.id),
  );
  const findings = before.map((c) => finding(c, !after.has(c.row.attempt.id)));
  return {
    dryRun: false,
    scope,
    polled: cycle.polled,
    eventsRead: cycle.read,
    eventsWaiting: null,
    statusReads,
    findings,
    remaining: findings.filter((f) => !f.fixed).length,
  };
}
