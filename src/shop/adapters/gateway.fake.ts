// Test helpers for the shop's payments: an in-memory gateway behind the shop's port (with a feed and
// fault switches), and signed webhook deliveries in our gateway's wire format.
import { randomBytes } from 'node:crypto';
import { DomainError } from '../../core/errors.ts';
import { toJSON, type Money } from '../../core/money.ts';
import { signWebhook } from '../../core/webhook-signature.ts';
import type {
  CardShown,
  DisputeEvidence,
  DisputeSnapshot,
  EventPage,
  GatewayPort,
  PaymentEvent,
  PaymentSession,
  PaymentSessionRequest,
  PaymentSessionStatus,
  RefundRequest,
  RefundResult,
  SessionState,
} from '../domain/gateway.port.ts';

interface FakeSession {
  id: string;
  request: PaymentSessionRequest;
  status: string;
  sequence: number;
  /** Set when the payer submits (any move but to canceled or expired), as the gateway keeps it. */
  card?: CardShown;
}

/** The card every fake payer enters. */
export const FAKE_CARD = { brand: 'visa', last4: '4242' } as const;

/** An in-memory gateway: sessions keyed by attempt id (idempotent), statuses moved by the test. */
export class FakeGateway implements GatewayPort {
  readonly sessions = new Map<string, FakeSession>();
  readonly calls: string[] = [];
  readonly feed: Array<PaymentEvent & { cursor: string }> = [];
  failCreate = false;
  /** Whether the news names the card that paid (our gateway's does; a Stripe webhook does not). */
  cardInNews = true;
  private n = 0;

  async createSession(request: PaymentSessionRequest): Promise<PaymentSession> {
    this.calls.push(`create:${request.attemptId}`);
    if (this.failCreate) throw new DomainError('upstream.unavailable');
    const existing = [...this.sessions.values()].find((s) => s.request.attemptId === request.attemptId);
    const s = existing ?? {
      id: `ps_fake${++this.n}${randomBytes(3).toString('hex')}`,
      request,
      status: 'created',
      sequence: 1,
    };
    this.sessions.set(s.id, s);
    return { sessionId: s.id, redirectUrl: `http://gateway.test/pay/${s.id}` };
  }

  async getSession(sessionId: string): Promise<PaymentSessionStatus> {
    this.calls.push(`get:${sessionId}`);
    const s = this.sessions.get(sessionId);
    if (!s) throw new DomainError('not_found');
    return {
      sessionId: s.id,
      status: state(s.status),
      amount: s.request.amount,
      invoiceId: s.request.invoiceId,
      sequence: s.sequence,
      card: s.card,
    };
  }

  async cancelSession(sessionId: string): Promise<void> {
    this.calls.push(`cancel:${sessionId}`);
    const s = this.sessions.get(sessionId);
    if (s && s.status === 'created') this.move(sessionId, 'canceled');
  }

  /** Refunds: recorded in `calls`; the refund module's tests use their own fake. */
  async createRefund(request: RefundRequest): Promise<RefundResult> {
    this.calls.push(`refund:${request.refundId}`);
    return { refundId: `ref_gw${request.refundId.slice(4)}`, status: 'pending' };
  }

  async listEvents(after: string | null): Promise<EventPage> {
    const from = after ? this.feed.findIndex((e) => e.cursor === after) + 1 : 0;
    const page = this.feed.slice(from, from + 2);
    return { events: page, nextCursor: page.at(-1)?.cursor ?? after, hasMore: from + 2 < this.feed.length };
  }

  readonly disputes = new Map<string, DisputeSnapshot & { evidence?: DisputeEvidence }>();

  /** The cardholder disputes a session's payment: the dispute (needs_response) and its `dispute.created` event. */
  dispute(sessionId: string, options: { amount?: Money; reason?: string; dueBy?: Date; now?: Date } = {}) {
    const s = this.sessions.get(sessionId)!;
    const now = options.now ?? new Date();
    const d: DisputeSnapshot = {
      disputeId: `dp_fake${++this.n}${randomBytes(3).toString('hex')}`,
      sessionId,
      amount: options.amount ?? s.request.amount,
      reason: options.reason ?? 'product_not_received',
      status: 'needs_response',
      evidenceDueBy: options.dueBy ?? new Date(now.getTime() + 7 * 86_400_000),
      created: now,
    };
    this.disputes.set(d.disputeId, d);
    return wireDisputeEvent(d, 'dispute.created');
  }

  /** Moves a dispute at the gateway; returns the event a webhook would carry. */
  moveDispute(disputeId: string, status: DisputeSnapshot['status']) {
    const d = { ...this.disputes.get(disputeId)!, status };
    this.disputes.set(disputeId, d);
    return wireDisputeEvent(d, status === 'won' || status === 'lost' ? 'dispute.closed' : 'dispute.updated');
  }

  async getDispute(disputeId: string): Promise<DisputeSnapshot> {
    const d = this.disputes.get(disputeId);
    if (!d) throw new DomainError('not_found');
    return d;
  }

  /** Evidence decides at once like the bank's test convention: `winning_evidence` wins, `losing_evidence` loses. */
  async submitDisputeEvidence(disputeId: string, evidence: DisputeEvidence): Promise<DisputeSnapshot> {
    this.calls.push(`evidence:${disputeId}`);
    const d = await this.getDispute(disputeId);
    if (d.status !== 'needs_response') throw new DomainError('dispute.not_open');
    const status = /winning_evidence/.test(evidence.text)
      ? 'won'
      : /losing_evidence/.test(evidence.text)
        ? 'lost'
        : 'under_review';
    const next = { ...d, status, evidence } as const;
    this.disputes.set(disputeId, next);
    return next;
  }

  async acceptDispute(disputeId: string): Promise<DisputeSnapshot> {
    this.calls.push(`accept:${disputeId}`);
    const d = await this.getDispute(disputeId);
    if (d.status !== 'needs_response') throw new DomainError('dispute.not_open');
    const next = { ...d, status: 'lost' as const };
    this.disputes.set(disputeId, next);
    return next;
  }

  /** Moves a session (sequence + 1) and appends the event to the feed; returns the wire event a webhook would carry. */
  move(sessionId: string, status: string, reason?: string) {
    const s = this.sessions.get(sessionId)!;
    s.status = status;
    s.sequence += 1;
    if (!['created', 'canceled', 'expired'].includes(status)) s.card ??= { ...FAKE_CARD };
    const card = this.cardInNews ? s.card : undefined;
    const wire = wireEvent({
      sessionId,
      invoiceId: s.request.invoiceId,
      amount: s.request.amount,
      status,
      sequence: s.sequence,
      ...(reason ? { reason } : {}),
      ...(card ? { card } : {}),
    });
    this.feed.push({
      id: wire.id,
      sessionId,
      invoiceId: s.request.invoiceId,
      status: state(status),
      amount: s.request.amount,
      sequence: s.sequence,
      reason,
      card,
      source: 'feed',
      cursor: `c${this.feed.length + 1}`,
    });
    return wire;
  }
}

function state(status: string): SessionState {
  if (status === 'created') return 'open';
  return status === 'processing' || status === 'requires_approval' ? 'pending' : (status as SessionState);
}

/** A gateway event body as our gateway sends it. */
export function wireEvent(e: {
  sessionId: string;
  invoiceId: string;
  amount: Money;
  status: string;
  sequence: number;
  reason?: string;
  card?: CardShown;
  id?: string;
}) {
  return {
    id: e.id ?? `evt_${randomBytes(10).toString('hex')}`,
    type: `payment.${e.status}`,
    created_at: new Date().toISOString(),
    data: {
      session_id: e.sessionId,
      merchant_reference: e.invoiceId,
      amount: toJSON(e.amount),
      status: e.status,
      sequence: e.sequence,
      ...(e.reason ? { reason: e.reason } : {}),
      ...(e.card ? { card: e.card } : {}),
    },
  };
}

/** Signs a body like the gateway does; `timestamp` defaults to now. */
export function signedDelivery(
  event: { id: string },
  secrets: readonly string[],
  timestamp = new Date(),
  bodyOverride?: string,
) {
  const body = bodyOverride ?? JSON.stringify(event);
  const headers = signWebhook({ id: event.id, timestamp, body: JSON.stringify(event), secrets });
  return { body, headers: { ...headers, 'content-type': 'application/json' } as Record<string, string> };
}

/** A dispute event body as our gateway sends it (`data.object` = the dispute). */
export function wireDisputeEvent(d: DisputeSnapshot, type: string, id?: string) {
  return {
    id: id ?? `evt_${randomBytes(10).toString('hex')}`,
    type,
    created_at: new Date().toISOString(),
    data: {
      object: {
        id: d.disputeId,
        object: 'dispute',
        payment_session: d.sessionId,
        amount: Number(d.amount.minor),
        currency: d.amount.currency,
        reason: d.reason,
        status: d.status,
        evidence_due_by: d.evidenceDueBy.toISOString(),
        created: d.created.toISOString(),
      },
    },
  };
}
