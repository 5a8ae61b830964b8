// The issuer port: how the gateway asks the card's bank. The bank adapter speaks HTTP to our bank
// service; tests use an in-memory fake. Card data passes through here and nowhere else.
import type { Money } from '../../core/money.ts';
import type { CardInput } from '../domain/card.ts';
import type { Evidence } from '../domain/dispute.machine.ts';

export type DeclineReason =
  | 'insufficient_funds'
  | 'card_declined'
  | 'invalid_cvc'
  | 'expired_card'
  | 'approval_declined'
  | 'approval_expired';

/** The bank's answer to an authorisation, or to a status poll. */
export type IssuerDecision =
  | { readonly status: 'approved'; readonly authorizationId: string }
  | { readonly status: 'declined'; readonly authorizationId: string | null; readonly declineReason: string }
  | { readonly status: 'pending'; readonly authorizationId: string; readonly approvalExpiresAt?: string };

/**
 * What asking for an authorisation can come to: the bank's decision, or a failure on the way that
 * certainly authorised nothing (the payer may try again).
 */
export type AuthorizeOutcome = IssuerDecision | { readonly status: 'failed'; readonly reason: string };

export interface AuthorizeRequest {
  /** Our reference; the bank treats a repeat with the same reference as the same authorisation. */
  readonly gatewayRef: string;
  readonly card: CardInput;
  readonly amount: Money;
  readonly merchantName: string;
  readonly description: string;
  readonly reference: string;
}

/** The card issuer, as the gateway needs it. Methods throw DomainError('upstream.unavailable') when the bank cannot be reached. */
export interface IssuerPort {
  /** Asks for an authorisation of the amount on the card. */
  authorize(request: AuthorizeRequest): Promise<AuthorizeOutcome>;
  /**
   * The authorisation the bank made for our reference, or null when it never saw it: how a session
   * whose answer was lost in a crash (the bank authorised, we never recorded it) is settled.
   */
  findByReference(
    gatewayRef: string,
  ): Promise<{ authorizationId: string; status: string; declineReason?: string } | null>;
  /** Current state of an authorisation (for pending ones whose callback may be lost). */
  status(
    authorizationId: string,
  ): Promise<{ status: 'approved' | 'declined' | 'pending' | 'captured' | 'voided' | string; declineReason?: string }>;
  /** Takes the money of an approved authorisation. Idempotent at the bank. */
  capture(authorizationId: string, amount: Money): Promise<void>;
  /** Releases an approved authorisation. Idempotent at the bank. */
  void(authorizationId: string): Promise<void>;
  /** Returns part or all of a captured amount; refundRef makes it idempotent. */
  refund(authorizationId: string, refundRef: string, amount: Money): Promise<void>;
  /**
   * The issuer's own records of the payment with our reference, as journey steps (each still to be
   * checked: another party's answer). Optional: an issuer that exposes no such view has none.
   */
  journey?(gatewayRef: string): Promise<readonly unknown[]>;
  /** Forwards the merchant's evidence on a dispute to the bank. Idempotent at the bank. */
  submitDisputeEvidence?(disputeRef: string, evidence: Evidence): Promise<void>;
  /**
   * Tells the bank the merchant accepts a dispute; answers how the bank closed it: `lost` (accepted,
   * now or before), or `won` when the cardholder had already withdrawn it. Idempotent at the bank.
   */
  acceptDispute?(disputeRef: string): Promise<'won' | 'lost'>;
  /**
   * Pays a payout into the merchant's account at the bank, idempotent by the payout's id: `paid`, or
   * `refused` with the bank's reason (nothing was paid). Optional: an issuer without payouts has none.
   */
  payout?(request: PayoutRequest): Promise<PayoutOutcome>;
}

/** A payout as the bank is asked for it. */
export interface PayoutRequest {
  readonly payoutId: string;
  readonly merchantId: string;
  readonly amount: Money;
}

export type PayoutOutcome = { readonly status: 'paid' } | { readonly status: 'refused'; readonly code: string };
