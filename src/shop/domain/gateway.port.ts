/**
 * The one port through which the shop reaches a payment gateway (ARCHITECTURE.md: "a shop could swap
 * our gateway for Stripe without touching its domain code"). Our gateway's adapter is
 * `adapters/gateway.native.ts`; the Stripe adapter (`adapters/gateway.stripe.ts`) maps Checkout
 * Sessions, PaymentIntents and Stripe events onto the same neutral types (status, a monotonic
 * sequence, the event feed). A payment attempt belongs to
 * exactly one valid invoice; an invoice may have several attempts while it is valid (seed 002).
 */
import type { JourneyStep } from '../../core/journey.ts';
import type { Money } from '../../core/money.ts';

/** What the shop asks the gateway for when the customer presses "Pay now". */
export interface PaymentSessionRequest {
  /** Our invoice id (`inv_…`): the gateway echoes it in every message about this payment. */
  readonly invoiceId: string;
  /** Our attempt id (`att_…`), also the Idempotency-Key, so that a retried request is one session. */
  readonly attemptId: string;
  readonly amount: Money;
  readonly expiresAt: Date;
  /** Where the gateway sends the payer back (the invoice page); never trusted as proof of payment. */
  readonly returnUrl: string;
  readonly description: string;
}

/** The gateway's answer: its session id and the hosted page to redirect the browser to. */
export interface PaymentSession {
  readonly sessionId: string;
  readonly redirectUrl: string;
}

/**
 * A session's state as the shop understands it, whatever the gateway: 'open' = waiting for the payer
 * (nothing submitted, nothing in progress); 'pending' = submitted, the bank is deciding; 'canceled' =
 * closed unpaid on the shop's request.
 */
export type SessionState =
  | 'open'
  | 'pending'
  | 'authorized'
  | 'captured'
  | 'declined'
  | 'expired'
  | 'canceled'
  | 'voided'
  | 'refunded';

/** A card as the shop may show it: brand and last four, never more. */
export interface CardShown {
  readonly brand: string;
  readonly last4: string;
}

/** The gateway's authoritative view of a session (return URL, "check payment status", reconciliation). */
export interface PaymentSessionStatus {
  readonly sessionId: string;
  readonly status: SessionState;
  readonly amount: Money;
  readonly invoiceId: string;
  /** Increases with every change of the session; older news never overrides newer (Stripe: the event's created time). */
  readonly sequence: number;
  readonly reason?: string | undefined;
  readonly redirectUrl?: string | undefined;
  /** The card that paid, as the gateway keeps it (brand and last four only), once one was entered. */
  readonly card?: CardShown | undefined;
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
  /** The card that paid (brand and last four), when the news carries it: kept on the attempt for the receipt. */
  readonly card?: CardShown | undefined;
  /** On refund news: the gateway's refund, and the session's refunded total after it (the refund module applies it). */
  readonly refund?: { readonly id: string; readonly amount: Money; readonly refundedTotal: Money } | undefined;
  /** Where it came from, for the staff console and the audit trail. */
  readonly source: 'webhook' | 'feed' | 'status_check';
}

/** A page of the gateway's event feed, read after a cursor. */
export interface EventPage {
  readonly events: readonly PaymentEvent[];
  /** Dispute news read from the same feed (a gateway whose feed carries it). */
  readonly disputes?: readonly DisputeNews[];
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
}

/** A refund of part or all of a captured payment; `refundId` (our `ref_…`) is also the Idempotency-Key. */
export interface RefundRequest {
  readonly sessionId: string;
  readonly refundId: string;
  readonly amount: Money;
  readonly reason: string;
}

/** The gateway's answer: its refund id, and failed (with the gateway's code) when it refused the refund. */
export interface RefundResult {
  readonly refundId: string;
  readonly status: 'pending' | 'succeeded' | 'failed';
  readonly reason?: string | undefined;
}

/** A rotation of the gateway's webhook signing secret; the key makes a retry the same rotation. */
export interface SecretRotationRequest {
  readonly idempotencyKey: string;
  /** How long the previous secret keeps signing beside the new one. */
  readonly overlapSeconds: number;
}

/** The gateway's answer: the new secret (shown this once) and when the previous one stops signing. */
export interface SecretRotation {
  readonly secret: string;
  readonly createdAt: Date;
  readonly previousExpiresAt: Date | null;
}

/** A payment's journey as the gateway (and the bank behind it) recorded it, read live. */
export interface GatewayJourney {
  readonly steps: readonly JourneyStep[];
  /** False while the payment can still move by itself (a bank decision, a webhook being retried). */
  readonly settled: boolean;
  /** Whether the gateway could read the bank's records. */
  readonly bank: 'included' | 'unavailable';
}

/** A dispute's status at the gateway (Stripe's names). */
export type GatewayDisputeStatus = 'needs_response' | 'under_review' | 'won' | 'lost';

/** A dispute (chargeback) of one of the shop's payments, as the gateway reports it. */
export interface DisputeSnapshot {
  readonly disputeId: string;
  /** Our session id of the disputed payment (a Checkout Session's on Stripe). */
  readonly sessionId: string;
  /** Our invoice, when the gateway names it; the shop checks it against the session's attempt. */
  readonly invoiceId?: string | undefined;
  readonly amount: Money;
  readonly reason: string;
  readonly status: GatewayDisputeStatus;
  readonly evidenceDueBy: Date;
  readonly created: Date;
}

/** One piece of dispute news (`dispute.created|updated|closed`), or a read turned into news. */
export interface DisputeNews extends DisputeSnapshot {
  /** The gateway's event id (the dedupe key); reads use `sync:<dispute>:<status>`. */
  readonly id: string;
  readonly type: string;
  readonly source: 'webhook' | 'feed' | 'status_check';
}

/** A file of dispute evidence; `text` is its rendition as text, for a gateway that takes text only. */
export interface EvidenceFile {
  readonly name: string;
  readonly contentType: string;
  readonly content: Uint8Array;
  readonly text?: string | undefined;
}

/** What the shop answers a dispute with. */
export interface DisputeEvidence {
  readonly text: string;
  readonly files: readonly EvidenceFile[];
}

/** News built from an authoritative read of a dispute (applied like a webhook). */
export function disputeNewsFromSnapshot(s: DisputeSnapshot): DisputeNews {
  return { ...s, id: `sync:${s.disputeId}:${s.status}`, type: 'dispute.read', source: 'status_check' };
}

/** The shop's port to any payment gateway (adapters implement it; the domain never sees HTTP). */
export interface GatewayPort {
  /** Creates (idempotently, keyed by the attempt id) a hosted payment session for a valid invoice. */
  createSession(request: PaymentSessionRequest): Promise<PaymentSession>;
  /** Reads a session's status server to server (reconciliation; never from the browser). */
  getSession(sessionId: string): Promise<PaymentSessionStatus>;
  /** Cancels a session whose invoice expired or was voided, so it can no longer be paid. */
  cancelSession(sessionId: string): Promise<void>;
  /** Reads the gateway's event feed after a cursor (null: from the start), so a lost webhook is recovered. */
  listEvents(after: string | null, limit?: number): Promise<EventPage>;
  /** Refunds (idempotently, keyed by our refund id) part or all of a captured session; throws only when it may be retried. */
  createRefund(request: RefundRequest): Promise<RefundResult>;
  /**
   * Accepts an authorisation the shop learned of from a status read or the feed (its webhook, whose 2xx
   * is the usual acknowledgement, never arrived), so that the gateway captures instead of voiding it at
   * the end of its window. True when acknowledged (now or before); false when the gateway will not
   * (refused, timed out, voided). Optional: a gateway that captures without asking has no such call.
   */
  acknowledgeSession?(sessionId: string): Promise<boolean>;
  /**
   * How the gateway learns the shop's verdict on an authorisation. 'answer' (default, our gateway): the
   * webhook's HTTP answer (2xx acknowledges, a refusal status voids) and `acknowledgeSession` for news
   * from reads. 'explicit' (Stripe): every answer is 2xx and the verdict is a call — `captureSession`
   * or `refuseSession` — made by a durable job enqueued in the verdict's own transaction.
   */
  readonly acknowledgement?: 'answer' | 'explicit';
  /** Explicit acknowledgement: captures an accepted authorisation. True once captured (now or before); false when it can no longer be (voided, canceled). */
  captureSession?(sessionId: string): Promise<boolean>;
  /**
   * Rotates the webhook signing secret the gateway signs this shop's deliveries with. Optional: a
   * gateway without such an API (Stripe: rolled in its dashboard) has none.
   */
  rotateWebhookSecret?(request: SecretRotationRequest): Promise<SecretRotation>;
  /** Explicit refusal: releases a refused authorisation (void), never capturing it; idempotent. */
  refuseSession?(sessionId: string): Promise<void>;
  /**
   * The gateway's and its bank's records of one session as journey steps (staff's journey page).
   * Optional: a gateway that exposes no such view (Stripe) has none, and the page shows the shop's side.
   */
  paymentJourney?(sessionId: string): Promise<GatewayJourney>;
  /** Reads one dispute of this merchant (reconciliation of disputes still awaiting a response). */
  getDispute?(disputeId: string): Promise<DisputeSnapshot>;
  /** Submits evidence; the dispute as it stands after (throws `dispute.not_open` once it is no longer open). */
  submitDisputeEvidence?(disputeId: string, evidence: DisputeEvidence): Promise<DisputeSnapshot>;
  /** Accepts (concedes) a dispute; the dispute as it stands after (throws `dispute.not_open` once closed). */
  acceptDispute?(disputeId: string): Promise<DisputeSnapshot>;
}

/** True when the gateway takes the shop's verdict as an explicit call rather than as the webhook's answer. */
export function acknowledgesExplicitly(gateway: Pick<GatewayPort, 'acknowledgement'> | undefined): boolean {
  return gateway?.acknowledgement === 'explicit';
}

/**
 * A card as news may carry it, or undefined when absent or not the short brand and four digits a
 * receipt shows (the card is for display: ill-formed, it is left out and the receipt asks the gateway).
 */
export function wellFormedCard(card: unknown): CardShown | undefined {
  const c = card as { brand?: unknown; last4?: unknown } | null | undefined;
  if (typeof c?.brand !== 'string' || typeof c.last4 !== 'string') return undefined;
  return /^[A-Za-z0-9_ -]{1,32}$/.test(c.brand) && /^[0-9]{4}$/.test(c.last4)
    ? { brand: c.brand, last4: c.last4 }
    : undefined;
}

/** A synthetic, trusted event built from an authoritative status read (applied like a webhook). */
export function eventFromSnapshot(s: PaymentSessionStatus): PaymentEvent {
  return {
    id: `sync:${s.sessionId}:${s.sequence}`,
    sessionId: s.sessionId,
    invoiceId: s.invoiceId,
    status: s.status,
    amount: s.amount,
    sequence: s.sequence,
    reason: s.reason,
    card: wellFormedCard(s.card),
    source: 'status_check',
  };
}
