/**
 * How a payout maps to transfers (pure). A payout moves what is available to the merchant's bank
 * account; a payout the bank refuses is given back by a second transfer, never by an edit:
 *
 *   payout written          single   available → paid_out     amount     payout_<po>
 *   refused by the bank     single   paid_out → available     amount     payout_reversal_<po>
 *
 * Only a positive available balance is paid out, and only what it holds: the dispute reserve is a
 * separate account, so what is reserved against disputes is never part of it.
 */
import { DomainError } from '../../core/errors.ts';
import { accountId } from './ledger.account.ts';
import type { Transfer } from './ledger.transfer.ts';

/** What the mapping needs of a payout. */
export interface LedgerPayout {
  readonly id: string;
  readonly merchantId: string;
  readonly currency: string;
  readonly amountMinor: bigint;
}

/** The amount a payout takes from an available balance: all of it when positive, none otherwise. */
export function payoutAmount(availableMinor: bigint): bigint {
  return availableMinor > 0n ? availableMinor : 0n;
}

function payoutTransfer(p: LedgerPayout, reversal: boolean): Transfer {
  if (p.amountMinor <= 0n) throw new DomainError('ledger.invalid_transfer', { payout: p.id, reason: 'nothing_to_pay' });
  const available = accountId(p.merchantId, p.currency, 'available');
  const paidOut = accountId(p.merchantId, p.currency, 'paid_out');
  return {
    id: reversal ? `payout_reversal_${p.id}` : `payout_${p.id}`,
    debitAccountId: reversal ? paidOut : available,
    creditAccountId: reversal ? available : paidOut,
    amount: p.amountMinor,
    currency: p.currency,
    kind: reversal ? 'payout_reversal' : 'payout',
    phase: 'single',
    pendingId: null,
    sessionId: null,
    refundId: null,
  };
}

/** The payout: the available balance leaves for the merchant's bank account. */
export function payoutTransfers(p: LedgerPayout): Transfer[] {
  return [payoutTransfer(p, false)];
}

/** The bank refused the payout: the money comes back to available, by a transfer of its own. */
export function payoutReversalTransfers(p: LedgerPayout): Transfer[] {
  return [payoutTransfer(p, true)];
}
