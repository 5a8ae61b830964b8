/**
 * The gateway's books: accounts and transfers by the double-entry rules of src/core/ledger.ts
 * (TigerBeetle's model: four running totals per account that only transfers move, and flags that
 * forbid going negative).
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
import { NEVER_NEGATIVE, NO_LIMIT, type AccountFlags } from '../../core/ledger.ts';

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

/** The flags of each kind of account (the table above). */
export const ACCOUNT_FLAGS: Readonly<Record<AccountKind, AccountFlags>> = {
  pending: NEVER_NEGATIVE,
  available: NO_LIMIT,
  refunds: NEVER_NEGATIVE,
  dispute_reserve: NEVER_NEGATIVE,
  // No flag: a refund of a payment captured before the ledger existed credits it with no debit to match.
  settlement: NO_LIMIT,
  fees: NEVER_NEGATIVE,
  paid_out: NEVER_NEGATIVE,
};

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
