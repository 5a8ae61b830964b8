/**
 * Double entry, modelled on TigerBeetle's accounts and transfers; the rules both ledgers (the
 * gateway's and the bank's) keep. Pure: storage is src/platform/ledger/.
 *
 * An account never holds "a balance" that code sets: it holds four running totals that only transfers
 * move — debits and credits, each pending (reserved by a two-phase transfer not yet resolved) and
 * posted. Flags say which side may never exceed the other, so an account that must not go negative
 * cannot.
 *
 * A transfer debits one account and credits another for the same positive integer amount in the same
 * currency, so every transfer balances by construction. It is immutable and named by its id:
 * submitting an id again with the same fields is a no-op, with different fields an error
 * (ledger.transfer_exists). Phases (TigerBeetle's flags):
 *
 *   single   moves `amount` at once: debits_posted / credits_posted
 *   pending  reserves `amount`: debits_pending / credits_pending (an authorisation, a hold)
 *   post     resolves a pending transfer (pending_id): its reservation is released and `amount`
 *            (≤ the pending amount; the rest goes back) is posted between the same two accounts
 *   void     resolves a pending transfer: its reservation is released, nothing is posted
 *
 * A pending transfer resolves exactly once: one post or one void names it (a unique index on
 * pending_id holds this under concurrency too). Expiry is a void.
 */
import { DomainError } from './errors.ts';

export const TRANSFER_PHASES = ['single', 'pending', 'post', 'void'] as const;
export type TransferPhase = (typeof TRANSFER_PHASES)[number];

/** The fields every transfer has; each ledger adds its own references (a session, a refund…). */
export interface LedgerTransfer<Kind extends string = string> {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  /** What the transfer records, in the ledger's own words (TigerBeetle's `code`). */
  readonly kind: Kind;
  readonly phase: TransferPhase;
  /** The pending transfer a post or void resolves; null otherwise. */
  readonly pendingId: string | null;
}

/** TigerBeetle's balance flags: which side of an account may never exceed the other. */
export interface AccountFlags {
  /** debits_pending + debits_posted ≤ credits_posted: a credit-normal account that never goes negative. */
  readonly debitsMustNotExceedCredits: boolean;
  /** credits_pending + credits_posted ≤ debits_posted: a debit-normal account that never goes negative. */
  readonly creditsMustNotExceedDebits: boolean;
}

export const NO_LIMIT: AccountFlags = { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false };
export const NEVER_NEGATIVE: AccountFlags = { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false };

/** An account's four running totals, in minor units of its currency. */
export interface Balances {
  readonly debitsPending: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPending: bigint;
  readonly creditsPosted: bigint;
}

export const EMPTY_BALANCES: Balances = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };

/** Which flag `b` breaks, if any. */
function limitBroken(flags: AccountFlags, b: Balances): 'debits_exceed_credits' | 'credits_exceed_debits' | null {
  if (flags.debitsMustNotExceedCredits && b.debitsPending + b.debitsPosted > b.creditsPosted)
    return 'debits_exceed_credits';
  if (flags.creditsMustNotExceedDebits && b.creditsPending + b.creditsPosted > b.debitsPosted)
    return 'credits_exceed_debits';
  return null;
}

/** `b` moved by `delta`, total by total (no flag checked). */
export function addBalances(b: Balances, delta: Balances): Balances {
  return {
    debitsPending: b.debitsPending + delta.debitsPending,
    debitsPosted: b.debitsPosted + delta.debitsPosted,
    creditsPending: b.creditsPending + delta.creditsPending,
    creditsPosted: b.creditsPosted + delta.creditsPosted,
  };
}

/** Adds `delta` to `b`, refusing (ledger.limit_exceeded) a result the account's flags forbid. */
export function applyDelta(account: { id: string; flags: AccountFlags }, b: Balances, delta: Balances): Balances {
  const next = addBalances(b, delta);
  const broken = limitBroken(account.flags, next);
  if (broken) throw new DomainError('ledger.limit_exceeded', { account: account.id, reason: broken });
  return next;
}

/** Two submissions of one id are the same transfer when every field (the ledger's own ones too) is equal. */
export function sameTransfer<T extends LedgerTransfer>(a: T, b: T): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof T)[]);
  return [...keys].every((k) => a[k] === b[k]);
}

/** What the ledger knows when a transfer is submitted. */
export interface TransferContext<T extends LedgerTransfer> {
  /** A transfer already stored (or earlier in the same batch) under this id. */
  readonly existing: T | undefined;
  /** For a post or void: the pending transfer it names, and whether something already resolved it. */
  readonly pending?: { readonly transfer: T; readonly resolvedBy: string | null } | undefined;
  /** The currency of each account named. */
  readonly currencyOf: (accountId: string) => string | undefined;
}

/** The decision on one submitted transfer: write it, or nothing to do (the same transfer exists). */
export type TransferVerdict = { readonly write: true } | { readonly write: false };

function invalid(t: LedgerTransfer, reason: string): DomainError {
  return new DomainError('ledger.invalid_transfer', { transfer: t.id, reason });
}

/**
 * Decides a submitted transfer: a no-op if it exists with the same fields, otherwise it must balance
 * (two different accounts of its currency, a positive amount) and, for a post or void, name an
 * unresolved pending transfer between the same accounts, posting at most its amount (a void all of it).
 */
export function decideTransfer<T extends LedgerTransfer>(t: T, ctx: TransferContext<T>): TransferVerdict {
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
export function transferDeltas(t: LedgerTransfer, pendingAmount = 0n): { debit: Balances; credit: Balances } {
  const release = t.phase === 'post' || t.phase === 'void' ? -pendingAmount : 0n;
  const posted = t.phase === 'single' || t.phase === 'post' ? t.amount : 0n;
  const reserved = t.phase === 'pending' ? t.amount : release;
  return {
    debit: { ...EMPTY_BALANCES, debitsPending: reserved, debitsPosted: posted },
    credit: { ...EMPTY_BALANCES, creditsPending: reserved, creditsPosted: posted },
  };
}
