// A payment's timeline (pure): its creation, every event, every webhook delivery attempt (status
// code and latency), the acknowledgement, capture or void, and refunds — one list in time order.
import type { paymentDetail } from '../storage/dashboard.ts';
import { money$ } from './dashboard-format.ts';

export type Detail = NonNullable<Awaited<ReturnType<typeof paymentDetail>>>;

export interface TimelineItem {
  readonly at: Date;
  /** Orders steps recorded at the same instant: cause before effect. */
  readonly rank?: number;
  readonly what: string;
  readonly detail: string;
  readonly tone: 'ok' | 'bad' | 'info';
}

const BAD_EVENTS = /voided|declined|expired|canceled|failed/;
// Events that follow from the acknowledgement (or its absence): after it, when recorded at the same instant.
const OUTCOME_EVENTS = /captured|voided|refunded/;

/** Every step of one payment, oldest first (ties keep the order of the list below). */
export function buildTimeline(d: Detail): TimelineItem[] {
  const s = d.session;
  const items: TimelineItem[] = [
    {
      at: s.createdAt,
      what: 'Payment created',
      detail: `${money$(s.amountMinor, s.currency)} · reference ${s.merchantReference}`,
      tone: 'info',
    },
  ];
  if (s.authorizedAt)
    items.push({
      at: s.authorizedAt,
      rank: 1,
      what: 'Authorised by the bank',
      detail: s.cardLast4 ? `${s.cardBrand ?? 'card'} •••• ${s.cardLast4}` : '',
      tone: 'ok',
    });
  for (const e of d.events) {
    const reason = e.type.includes('voided') && s.voidReason ? `reason ${s.voidReason}` : '';
    items.push({
      at: e.createdAt,
      rank: OUTCOME_EVENTS.test(e.type) ? 5 : 2,
      what: `Event ${e.type}`,
      detail: [e.id, reason].filter(Boolean).join(' · '),
      tone: BAD_EVENTS.test(e.type) ? 'bad' : 'ok',
    });
  }
  for (const a of d.attempts) {
    const delivery = d.deliveries.find((x) => x.id === a.deliveryId);
    const event = d.events.find((e) => e.id === delivery?.eventId);
    const ok = a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;
    items.push({
      at: a.createdAt,
      rank: 3,
      what: `Webhook ${event?.type ?? 'delivery'}: attempt #${a.attempt} → ${a.statusCode ?? a.error ?? 'no answer'}`,
      detail: `${a.latencyMs} ms · ${a.url}`,
      tone: ok ? 'ok' : 'bad',
    });
  }
  if (s.acknowledgedAt && s.acknowledgement)
    items.push({
      at: s.acknowledgedAt,
      rank: 4,
      what: `Acknowledgement: ${s.acknowledgement.replace('_', ' ')}`,
      detail: s.acknowledgement === 'acknowledged' ? 'the shop accepted the authorisation' : (s.voidReason ?? ''),
      tone: s.acknowledgement === 'acknowledged' ? 'ok' : 'bad',
    });
  for (const r of d.refunds)
    items.push({
      at: r.createdAt,
      rank: 6,
      what: `Refund ${money$(r.amountMinor, r.currency)} (${r.status})`,
      detail: [r.id, r.reason].filter(Boolean).join(' · '),
      tone: 'info',
    });
  return items
    .map((item, i) => ({ item, i }))
    .sort((x, y) => x.item.at.getTime() - y.item.at.getTime() || (x.item.rank ?? 0) - (y.item.rank ?? 0) || x.i - y.i)
    .map((x) => x.item);
}
