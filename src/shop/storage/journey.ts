// The shop's side of an order's payment journey, read from its own rows only: the customer's "Pay now"
// (an attempt), the gateway's answer to the session request, each webhook received with the shop's
// verdict and answer, the news reconciliation read from the gateway, the invoice's changes and the
// refunds. The gateway's side is asked of the gateway through the payment port, never copied here.
import { asc, inArray } from 'drizzle-orm';
import type { JourneyStep, JourneyVerdict } from '../../core/journey.ts';
import { formatMoney, money, type Currency } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { AuditEntry } from './audit.ts';
import type { ReceiptRow } from './payments.ts';
import { gatewayEvents } from './tables.ts';

type GatewayEventRow = typeof gatewayEvents.$inferSelect;

const shop = (at: Date, step: Omit<JourneyStep, 'at' | 'party'>): JourneyStep => ({
  at: at.toISOString(),
  party: 'shop',
  ...step,
});

const VERDICTS: Record<string, JourneyVerdict> = {
  accepted: 'ok',
  duplicate: 'ok',
  ignored: 'ok',
  refused: 'refused',
  malformed: 'error',
  error: 'error',
};

const INVOICE_CHANGES: Record<string, string> = {
  pay: 'paid',
  expire: 'expired',
  void: 'voided',
  cancel: 'cancelled',
  refund: 'refunded',
  reverse: 'reversed',
};

/** What the shop answered a webhook with, by its verdict (routes/http-answer.ts). */
function answerOf(verdict: string): string {
  if (verdict === 'refused') return 'answered 4xx: refused';
  if (verdict === 'malformed' || verdict === 'error') return 'not acknowledged';
  return 'answered 200';
}

/** The news reconciliation read from the gateway (status reads and the event feed). */
export async function reconciledNews(db: Executor, sessionIds: readonly string[]): Promise<GatewayEventRow[]> {
  if (sessionIds.length === 0) return [];
  const rows = await db
    .select()
    .from(gatewayEvents)
    .where(inArray(gatewayEvents.sessionId, [...sessionIds]))
    .orderBy(asc(gatewayEvents.appliedAt));
  return rows.filter((r) => r.source !== 'webhook');
}

/** One audit entry as a step, when it stands for a message or a change worth drawing. */
function auditStep(e: AuditEntry, amounts: ReadonlyMap<string, string>): JourneyStep[] {
  const data = (e.data ?? {}) as Record<string, unknown>;
  const at = e.at;
  const ref = e.subject;
  switch (e.action) {
    case 'order.placed':
      return [shop(at, { from: 'browser', to: 'shop', label: 'checkout: order placed', verdict: 'ok', ref })];
    case 'invoice.issued':
      return [shop(at, { from: 'shop', to: 'shop', label: `invoice issued for ${amounts.get(ref) ?? '?'}`, ref })];
    case 'attempt.created':
      return [shop(at, { from: 'browser', to: 'shop', label: '"Pay now": attempt created', ref })];
    case 'attempt.session_created':
      return [
        shop(at, {
          from: 'gateway',
          to: 'shop',
          label: `session ${String(data.sessionId ?? '')} created`,
          verdict: 'ok',
          ref,
        }),
        shop(at, { from: 'shop', to: 'browser', label: '303 to the hosted payment page', ref }),
      ];
    case 'attempt.failed':
      return [
        shop(at, {
          from: 'gateway',
          to: 'shop',
          label: `no session: ${String(data.reason ?? 'failed')}`,
          verdict: 'error',
          ref,
        }),
      ];
    case 'refund.requested':
      return [shop(at, { from: 'browser', to: 'shop', label: 'staff asks for a refund', ref })];
    case 'refund.submit':
      return [shop(at, { from: 'shop', to: 'gateway', label: 'refund sent to the gateway', ref })];
    case 'refund.succeed':
      return [shop(at, { from: 'shop', to: 'shop', label: 'refund succeeded', verdict: 'ok', ref })];
    case 'refund.fail':
      return [shop(at, { from: 'shop', to: 'shop', label: 'refund failed', verdict: 'refused', ref })];
    default:
      if (e.action.startsWith('invoice.'))
        return [
          shop(at, {
            from: 'shop',
            to: 'shop',
            label: `invoice ${INVOICE_CHANGES[e.action.slice(8)] ?? e.action.slice(8)}`,
            verdict: e.action === 'invoice.pay' ? 'ok' : undefined,
            ref,
          }),
        ];
      return [];
  }
}

/** The shop's steps: its audit trail of the order, the webhooks it received and the news it reconciled. */
export function shopJourney(input: {
  audit: readonly AuditEntry[];
  receipts: readonly ReceiptRow[];
  reconciled: readonly GatewayEventRow[];
  invoices: readonly { id: string; amountMinor: bigint; currency: string }[];
}): JourneyStep[] {
  const amounts = new Map(
    input.invoices.map((i) => [i.id, formatMoney(money(i.amountMinor, i.currency as Currency))] as const),
  );
  const steps = input.audit.flatMap((e) => auditStep(e, amounts));
  for (const r of input.receipts)
    steps.push(
      shop(r.receivedAt, {
        from: 'gateway',
        to: 'shop',
        label: `webhook: payment ${r.eventType ?? '?'} → ${r.verdict}${r.reason ? ` (${r.reason.slice(0, 60)})` : ''}; ${answerOf(r.verdict)}`,
        verdict: VERDICTS[r.verdict] ?? 'error',
        ref: r.eventId ?? undefined,
      }),
    );
  for (const n of input.reconciled)
    steps.push(
      shop(n.appliedAt, {
        from: 'shop',
        to: 'gateway',
        label: `reconciliation read ${n.status} from the ${n.source === 'feed' ? 'event feed' : 'session status'}: ${n.verdict}`,
        verdict: n.verdict === 'refused' ? 'refused' : 'ok',
        ref: n.eventId,
      }),
    );
  return steps;
}
