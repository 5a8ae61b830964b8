/**
 * The one port through which the shop reaches a payment gateway (ARCHITECTURE.md: "a shop could swap
 * our gateway for Stripe without touching its domain code"). Issue 6 provides the adapter for our
 * gateway; nothing in this issue calls it. A payment attempt belongs to exactly one valid invoice; an
 * invoice may have several attempts while it is valid (seed 002).
 */
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

/** The gateway's view of a session, for reconciliation of attempts pending too long. */
export interface PaymentSessionStatus {
  readonly sessionId: string;
  readonly status: 'pending' | 'authorized' | 'captured' | 'declined' | 'expired' | 'voided' | 'refunded';
  readonly amount: Money;
  readonly invoiceId: string;
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

/** The shop's port to any payment gateway (adapters implement it; the domain never sees HTTP). */
export interface GatewayPort {
  /** Creates (idempotently, keyed by the attempt id) a hosted payment session for a valid invoice. */
  createSession(request: PaymentSessionRequest): Promise<PaymentSession>;
  /** Reads a session's status server to server (reconciliation; never from the browser). */
  getSession(sessionId: string): Promise<PaymentSessionStatus>;
  /** Cancels a session whose invoice expired or was voided, so it can no longer be paid. */
  cancelSession(sessionId: string): Promise<void>;
  /** Refunds (idempotently, keyed by our refund id) part or all of a captured session; throws only when it may be retried. */
  createRefund(request: RefundRequest): Promise<RefundResult>;
}
