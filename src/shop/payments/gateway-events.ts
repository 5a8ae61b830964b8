/**
 * The gateway-neutral vocabulary of payment news the shop acts on, whoever the gateway is: a webhook,
 * an entry of the gateway's event feed and a status read server to server all become one
 * `PaymentEvent`, which `applyGatewayEvent` applies. An adapter (ours, or a Stripe one) translates its
 * gateway's wire format into these types; nothing here knows a URL or a header.
 */
import type { Money } from '../../core/money.ts';
import type { GatewayPort, PaymentSessionStatus } from '../domain/gateway.port.ts';

/**
 * A session's state as the shop understands it: 'open' = waiting for the payer (nothing submitted yet,
 * so nothing is in progress); 'pending' = a card was submitted and the bank is deciding; 'canceled' =
 * closed unpaid on the shop's request.
 */
export type SessionState = PaymentSessionStatus['status'] | 'open' | 'canceled';

/** The gateway's authoritative view of a session, with the version that orders its changes. */
export interface SessionSnapshot {
  readonly sessionId: string;
  readonly status: SessionState;
  readonly amount: Money;
  readonly invoiceId: string;
  /** Increases with every change of the session; an older one never overrides a newer one. */
  readonly sequence: number;
  readonly reason?: string | undefined;
  readonly redirectUrl?: string | undefined;
}

/** One piece of payment news: delivered by webhook, read from the feed, or synthesised from a status read. */
export interface PaymentEvent {
  /** Unique per event at the gateway (the dedupe key); synthetic events use `sync:<session>:<sequence>`. */
  readonly id: string;
  readonly sessionId: string;
  readonly invoiceId: string;
  readonly status: SessionState;
  readonly amount: Money;
  readonly sequence: number;
  readonly reason?: string | undefined;
  /** On refund news: the gateway's refund, and the session's refunded total after it (the refund module applies it). */
  readonly refund?: { readonly id: string; readonly amount: Money; readonly refundedTotal: Money } | undefined;
  /** Where it came from, for the staff console and the audit trail. */
  readonly source: 'webhook' | 'feed' | 'status_check';
}

/** A page of the gateway's event feed, read after a cursor. */
export interface EventPage {
  readonly events: readonly PaymentEvent[];
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
}

/** What the shop needs from a gateway beyond the port's three calls: the richer status and the feed. */
export interface ShopGateway extends Omit<GatewayPort, 'getSession'> {
  getSession(sessionId: string): Promise<SessionSnapshot>;
  /** Reads the gateway's event feed after a cursor (null: from the start). */
  listEvents(after: string | null, limit?: number): Promise<EventPage>;
}

/** A synthetic, trusted event built from an authoritative status read (same code path as webhooks). */
export function eventFromSnapshot(s: SessionSnapshot): PaymentEvent {
  return {
    id: `sync:${s.sessionId}:${s.sequence}`,
    sessionId: s.sessionId,
    invoiceId: s.invoiceId,
    status: s.status,
    amount: s.amount,
    sequence: s.sequence,
    reason: s.reason,
    source: 'status_check',
  };
}
