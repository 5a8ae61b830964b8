/**
 * The gateway's transfers: the double-entry rules of src/core/ledger.ts (phases, idempotency by id, a
 * pending transfer resolved exactly once) with the gateway's kinds and references. An authorisation
 * is a pending transfer, a capture posts it, a void or a lapsed authorisation voids it.
 */
import type { LedgerTransfer } from '../../core/ledger.ts';

export const TRANSFER_KINDS = [
  'authorization',
  'capture',
  'void',
  'release',
  'fee',
  'refund',
  'refund_paid',
  'dispute_open',
  'dispute_won',
  'dispute_lost',
  'payout',
  'payout_reversal',
] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];

/** A transfer as submitted (and stored, with its creation time). */
export interface Transfer extends LedgerTransfer<TransferKind> {
  /** The payment session the transfer belongs to, and the refund for refund transfers. */
  readonly sessionId: string | null;
  readonly refundId: string | null;
}
