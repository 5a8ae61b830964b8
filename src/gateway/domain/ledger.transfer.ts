/**
 * Transfers, modelled on TigerBeetle's: each debits one account and credits another for the same
 * positive integer amount in the same currency, so every transfer balances by construction. A
 * transfer is immutable and named by its id: submitting an id again with the same fields is a no-op,
 * with different fields an error (ledger.transfer_exists).
 *
 * Phases (TigerBeetle's flags):
 *
 *   single   moves `amount` at once: debits_posted / credits_posted
 *   pending  reserves `amount`: debits_pending / credits_pending (an authorisation)
 *   post     resolves a pending transfer (pending_id): its reservation is released and `amount`
 *            (≤ the pending amount; the rest goes back) is posted between the same two accounts
 *   void     resolves a pending transfer: its reservation is released, nothing is posted
 *
 * A pending transfer resolves exactly once: one post or one void names it (a unique index on
 * pending_id holds this under concurrency too). An authorisation that lapses is voided: expiry = void.
 */
import { DomainError } from '../../core/errors.ts';
import { EMPTY_BALANCES, type Balances } from './ledger.account.ts';

export const TRANSFER_PHASES = ['single', 'pending', 'post', 'void'] as const;
export type TransferPhase = (typeof TRANSFER_PHASES)[number];

/** What a transfer records, in the payment's words (TigerBeetle's `code`). */
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
export interface Transfer {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly kind: TransferKind;
  readonly phase: TransferPhase;
  /** The pending transfer a post or void resolves; null otherwise. */
  readonly pendingId: string | null;
  /** The payment session the transfer belongs to, and the refund for refund transfers. */
  readonly sessionId: string | null;
  readonly refundId: string | null;
}

function invalid(t: Transfer, reason: string): DomainError {
  return new DomainError('ledger.invalid_transfer', { transfer: t.id, reason });
}

/** The fields that make two submissions of one id the same transfer. */
export function sameTransfer(a: Transfer, b: Transfer): boolean {
  return (
    a.id === b.id &&
    a.debitAccountId === b.debitAccountId &&
    a.creditAccountId === b.creditAccountId &&
    a.amount === b.amount &&
    a.currency === b.currency &&
    a.kind === b.kind &&
    a.phase === b.phase &&
    a.pendingId === b.pendingId &&
    a.sessionId === b.sessionId &&
    a.refundId === b.refundId
  );
}

/** What the ledger knows when a transfer is submitted. */
export interface TransferContext {
  /** A transfer already stored (or earlier in the same batch) under this id. */
  readonly existing: Transfer | undefined;
  /** For a post or void: the pending transfer it names, and whether something already resolved it. */
  readonly pending?: { readonly transfer: Transfer; readonly resolvedBy: string | null } | undefined;
  /** The currency of each account named. */
  readonly currencyOf: (accountId: string) => string | undefined;
}

/** The decision on one submitted transfer: write it, or nothing to do (the same transfer exists). */
export type TransferVerdict = { readonly write: true } | { readonly write: false };

/**
 * Decides a submitted transfer: a no-op if it exists with the same fields, otherwise it must balance
 * (two different accounts of its currency, a positive amount) and, for a post or void, name an
 * unresolved pending transfer between the same accounts, posting at most its amount.
 */
export function decideTransfer(t: Transfer, ctx: TransferContext): TransferVerdict {
  if (ctx.existing) {
    if (!sameTransfer(ctx.existing, t)) throw new DomainError('ledger.transfer_exists', { transfer: t.id });
    return { write: false };
  }
  if (t.amount <= 0n) throw invalid(t, 'amount_must_be_positive');
  if (t.debitAccountId === t.creditAccountId) throw invalid(t, 'same_account');
  if (ctx.currencyOf(t.debitAccountId) !== t.currency || ctx.currencyOf(t.creditAccountId) !== t.currency)
    throw invalid(t, 'currency_differs_from_account');
  if (t.phase === 'single' || t.phase === 'pending') {
    if (t.pendingId !== null) throw invalid(t, 'pending_id_on_non_resolving_transfer');
    return { write: true };
  }
  const p = ctx.pending;
  if (!p || t.pendingId === null || p.transfer.id !== t.pendingId || p.transfer.phase !== 'pending')
    throw invalid(t, 'pending_transfer_not_found');
  if (p.resolvedBy !== null)
    throw new DomainError('ledger.pending_resolved', { transfer: t.id, pending: p.transfer.id, by: p.resolvedBy });
  if (p.transfer.debitAccountId !== t.debitAccountId || p.transfer.creditAccountId !== t.creditAccountId)
    throw invalid(t, 'accounts_differ_from_pending');
  if (t.phase === 'post' && t.amount > p.transfer.amount) throw invalid(t, 'exceeds_pending_amount');
  if (t.phase === 'void' && t.amount !== p.transfer.amount) throw invalid(t, 'void_amount_differs_from_pending');
  return { write: true };
}

/** How a written transfer moves its two accounts' totals (for a post or void, `pendingAmount` is released). */
export function transferDeltas(t: Transfer, pendingAmount = 0n): { debit: Balances; credit: Balances } {
  switch (t.phase) {
    case 'single':
      return {
        debit: { ...EMPTY_BALANCES, debitsPosted: t.amount },
        credit: { ...EMPTY_BALANCES, creditsPosted: t.amount },
      };
    case 'pending':
      return {
        debit: { ...EMPTY_BALANCES, debitsPending: t.amount },
        credit: { ...EMPTY_BALANCES, creditsPending: t.amount },
      };
    case 'post':
      return {
        debit: { ...EMPTY_BALANCES, debitsPending: -pendingAmount, debitsPosted: t.amount },
        credit: { ...EMPTY_BALANCES, creditsPending: -pendingAmount, creditsPosted: t.amount },
      };
    case 'void':
      return {
        debit: { ...EMPTY_BALANCES, debitsPending: -pendingAmount },
        credit: { ...EMPTY_BALANCES, creditsPending: -pendingAmount },
      };
  }
}
