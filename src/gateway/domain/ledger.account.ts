/**
 * The gateway's books, modelled on TigerBeetle's accounts: an account never holds "a balance" that
 * code sets; it holds four running totals that only transfers move — debits and credits, each pending
 * (reserved by a two-phase transfer not yet resolved) and posted. Flags say which side may never
 * exceed the other, so an account that must not go negative cannot.
 *
 * Accounts, one of each kind per merchant and currency (created the first time a transfer needs them):
 *
 *   merchant's money  pending          authorised, not yet captured (credits_pending), flag: never negative
 *                     available        captured, net of fees and refunds; may go negative (a refund after
 *                                      a fee), as a card acquirer's merchant balance may
 *                     refunds          refunds recorded, on their way back to the cardholder, never negative
 *                     dispute_reserve  held against disputes (no transfers yet), never negative
 *                     paid_out         paid out to the merchant's bank account, in total, never negative
 *   gateway's side    settlement       the card network / the bank: what it owes the gateway for this
 *                                      merchant's payments (debit-normal)
 *                     fees             the gateway's fee revenue from this merchant, never negative
 *
 * The settlement and fee accounts are kept per merchant rather than one for the whole gateway: each
 * payment's transaction then locks only its own merchant's rows, so merchants never wait on each other
 * (the gateway-wide settlement position and fee revenue are the sums over merchants).
 */
import { DomainError } from '../../core/errors.ts';

export const ACCOUNT_KINDS = [
  'pending',
  'available',
  'refunds',
  'dispute_reserve',
  'settlement',
  'fees',
  'paid_out',
] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** TigerBeetle's balance flags: which side of an account may never exceed the other. */
export interface AccountFlags {
  /** debits_pending + debits_posted ≤ credits_posted: a credit-normal account that never goes negative. */
  readonly debitsMustNotExceedCredits: boolean;
  /** credits_pending + credits_posted ≤ debits_posted: a debit-normal account that never goes negative. */
  readonly creditsMustNotExceedDebits: boolean;
}

const NEVER_NEGATIVE: AccountFlags = { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false };

/** The flags of each kind of account (the table above). */
export const ACCOUNT_FLAGS: Readonly<Record<AccountKind, AccountFlags>> = {
  pending: NEVER_NEGATIVE,
  available: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
  refunds: NEVER_NEGATIVE,
  dispute_reserve: NEVER_NEGATIVE,
  // No flag: a refund of a payment captured before the ledger existed credits it with no debit to match.
  settlement: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
  fees: NEVER_NEGATIVE,
  paid_out: NEVER_NEGATIVE,
};

/** An account's four running totals, in minor units of its currency. */
export interface Balances {
  readonly debitsPending: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPending: bigint;
  readonly creditsPosted: bigint;
}

export const EMPTY_BALANCES: Balances = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };

/** The id of a merchant's account of one kind and currency: deterministic, so no lookup is needed to name it. */
export function accountId(merchantId: string, currency: string, kind: AccountKind): string {
  return `acct_${merchantId}_${currency}_${kind}`;
}

/** The merchant, currency and kind an account id names; throws on anything else. */
export function parseAccountId(id: string): { merchantId: string; currency: string; kind: AccountKind } {
  const kind = ACCOUNT_KINDS.find((k) => id.endsWith(`_${k}`));
  const m = kind ? /^acct_(.+)_([A-Z]{3})$/.exec(id.slice(0, -(kind.length + 1))) : null;
  if (!kind || !m) throw new DomainError('ledger.invalid_transfer', { account: id, reason: 'not_an_account_id' });
  return { merchantId: m[1]!, currency: m[2]!, kind };
}

/** Which flag `b` breaks, if any. */
export function limitBroken(
  flags: AccountFlags,
  b: Balances,
): 'debits_exceed_credits' | 'credits_exceed_debits' | null {
  if (flags.debitsMustNotExceedCredits && b.debitsPending + b.debitsPosted > b.creditsPosted)
    return 'debits_exceed_credits';
  if (flags.creditsMustNotExceedDebits && b.creditsPending + b.creditsPosted > b.debitsPosted)
    return 'credits_exceed_debits';
  return null;
}

/** Adds `delta` to `b`, refusing (ledger.limit_exceeded) a result the account's flags forbid. */
export function applyDelta(account: { id: string; flags: AccountFlags }, b: Balances, delta: Balances): Balances {
  const next: Balances = {
    debitsPending: b.debitsPending + delta.debitsPending,
    debitsPosted: b.debitsPosted + delta.debitsPosted,
    creditsPending: b.creditsPending + delta.creditsPending,
    creditsPosted: b.creditsPosted + delta.creditsPosted,
  };
  const broken = limitBroken(account.flags, next);
  if (broken) throw new DomainError('ledger.limit_exceeded', { account: account.id, reason: broken });
  return next;
}

/** Posted credits minus posted debits: what a credit-normal account holds. */
export function creditBalance(b: Balances): bigint {
  return b.creditsPosted - b.debitsPosted;
}
