// A merchant's balance as it reads it, from its ledger accounts (pure): per currency, what is
// authorised but not captured yet, what is available, the fees taken and what was refunded.
import type { Balances } from '../../core/ledger.ts';
import type { AccountKind } from './ledger.account.ts';

/** One currency of a merchant's balance, in minor units (available may be negative: a refund after a fee). */
export interface MerchantBalance {
  readonly currency: string;
  /** Authorised, not yet captured (reserved by pending transfers). */
  readonly pending: bigint;
  /** Captured, net of fees and refunds. */
  readonly available: bigint;
  /** Fees taken by the gateway, in total. */
  readonly fees: bigint;
  /** Refunded to cardholders, in total (including refunds still on their way at the bank). */
  readonly refunded: bigint;
}

/** The balance per currency from a merchant's accounts (one row per account), currencies in order. */
export function merchantBalances(
  accounts: readonly (Balances & { readonly currency: string; readonly kind: AccountKind })[],
): MerchantBalance[] {
  const by = new Map<string, { pending: bigint; available: bigint; fees: bigint; refunded: bigint }>();
  for (const a of accounts) {
    const b = by.get(a.currency) ?? { pending: 0n, available: 0n, fees: 0n, refunded: 0n };
    if (a.kind === 'pending') b.pending = a.creditsPending - a.debitsPending + a.creditsPosted - a.debitsPosted;
    if (a.kind === 'available') b.available = a.creditsPosted - a.debitsPosted;
    if (a.kind === 'fees') b.fees = a.creditsPosted - a.debitsPosted;
    if (a.kind === 'refunds') b.refunded = a.creditsPosted;
    by.set(a.currency, b);
  }
  return [...by.entries()]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([currency, b]) => ({ currency, ...b }));
}
