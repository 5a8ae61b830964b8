/**
 * The gateway-neutral vocabulary of payment news the shop acts on, whoever the gateway is: a webhook,
 * an entry of the gateway's event feed and a status read server to server all become one
 * `PaymentEvent`, which `applyGatewayEvent` applies. An adapter (ours, or a Stripe one) translates its
 * gateway's wire format into these types; nothing here knows a URL or a header.
 */
import type { GatewayPort, PaymentEvent, PaymentSessionStatus } from '../domain/gateway.port.ts';

export type { EventPage, PaymentEvent, PaymentSessionStatus, SessionState } from '../domain/gateway.port.ts';
/** The shop's gateway: the port itself (kept as a name for the payment modules). */
export type ShopGateway = GatewayPort;

/** A synthetic, trusted event built from an authoritative status read (same code path as webhooks). */
export function eventFromSnapshot(s: PaymentSessionStatus): PaymentEvent {
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
