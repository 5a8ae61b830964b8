/**
 * How a dispute maps to transfers (pure), each id derived from the dispute so that recording a step
 * twice names the same transfer and changes nothing:
 *
 *   dispute opened   single   available → dispute_reserve    disputed amount   dispute_open_<dp>
 *   merchant won     single   dispute_reserve → available    disputed amount   dispute_won_<dp>
 *   merchant lost    single   dispute_reserve → settlement   disputed amount   dispute_lost_<dp>
 *
 * Lost money goes back through the bank to the cardholder, as a refund paid does (refunds → settlement).
 */
import { merchantAccounts } from './ledger.payment.ts';
import type { Transfer } from './ledger.transfer.ts';

/** What the dispute transfers need of a dispute. */
export interface LedgerDispute {
  readonly id: string;
  readonly merchantId: string;
  readonly sessionId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

function disputeTransfer(
  d: LedgerDispute,
  kind: 'dispute_open' | 'dispute_won' | 'dispute_lost',
  debitAccountId: string,
  creditAccountId: string,
): Transfer {
  return {
    id: `${kind}_${d.id}`,
    debitAccountId,
    creditAccountId,
    amount: d.amountMinor,
    currency: d.currency,
    kind,
    phase: 'single',
    pendingId: null,
    sessionId: d.sessionId,
    refundId: null,
  };
}

/** The dispute opened: its amount is held out of the merchant's available balance. */
export function disputeOpenTransfers(d: LedgerDispute): Transfer[] {
  const a = merchantAccounts(d.merchantId, d.currency);
  return [disputeTransfer(d, 'dispute_open', a.available, a.dispute_reserve)];
}

/** The dispute closed: won gives the reserve back, lost sends it to the cardholder's side. */
export function disputeCloseTransfers(d: LedgerDispute, outcome: 'won' | 'lost'): Transfer[] {
  const a = merchantAccounts(d.merchantId, d.currency);
  return [
    ...disputeOpenTransfers(d),
    outcome === 'won'
      ? disputeTransfer(d, 'dispute_won', a.dispute_reserve, a.available)
      : disputeTransfer(d, 'dispute_lost', a.dispute_reserve, a.settlement),
  ];
}
