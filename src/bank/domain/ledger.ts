/**
 * The bank's books, by the same double-entry rules as the gateway's (src/core/ledger.ts, TigerBeetle's
 * accounts and transfers: four running totals per account that only transfers move; a transfer is
 * immutable and idempotent by id; a pending transfer resolves exactly once).
 *
 * Accounts (id `<kind>:<owner>:<currency>`, created the first time a transfer needs them):
 *
 *   cardholder   one per cardholder account (owner: the account's id), what the bank owes the cardholder;
 *                never negative: its debits (holds and payments) never exceed its posted credits, which
 *                is `balance - held >= 0` on the accounts table
 *   settlement   the bank's position with the gateway: card payments captured are credited to it,
 *                refunds and payouts debited. Kept in parts, as the gateway keeps its per merchant: one
 *                per cardholder account (owner: the account's id) for its payments, so that payments of
 *                different accounts never wait on one row, and one (owner `payouts`) for payouts; the
 *                bank's position with the gateway is the sum of the parts
 *   merchant     a merchant's account at the bank (owner: the gateway's merchant id), credited by payouts;
 *                never negative
 *   opening      where a new account's opening balance comes from (owner `bank`): the bank's equity
 *
 * A card payment in transfers (ids from the authorisation, the refund, the payout):
 *
 *   authorisation hold     pending  cardholder → settlement   hold_<bauth>
 *   capture                post     cardholder → settlement   capture_<bauth> (≤ the hold; the rest goes back)
 *   void, decline, expiry  void     cardholder → settlement   release_<bauth>
 *   refund                 single   settlement → cardholder   refund_<bref>
 *   chargeback             single   settlement → cardholder   chargeback_<dispute>
 *   its reversal (won)     single   cardholder → settlement   chargeback_reversal_<dispute> (what the balance allows)
 *   the rest written off   single   opening → settlement      chargeback_writeoff_<dispute> (the bank bears it)
 *   payout                 single   settlement (payouts) → merchant   payout_<po>
 *   opening balance        single   opening → cardholder      opening_<account>
 */
import { DomainError } from '../../core/errors.ts';
import {
  NEVER_NEGATIVE,
  NO_LIMIT,
  type AccountFlags,
  type LedgerTransfer,
  type TransferPhase,
} from '../../core/ledger.ts';

export const BANK_ACCOUNT_KINDS = ['cardholder', 'settlement', 'merchant', 'opening'] as const;
export type BankAccountKind = (typeof BANK_ACCOUNT_KINDS)[number];

export const BANK_TRANSFER_KINDS = [
  'opening',
  'hold',
  'capture',
  'release',
  'refund',
  'payout',
  'chargeback',
  'chargeback_reversal',
  'chargeback_writeoff',
] as const;
export type BankTransferKind = (typeof BANK_TRANSFER_KINDS)[number];

/** Whether an account of this kind must never go negative (debits never exceed posted credits). */
export function neverNegative(kind: BankAccountKind): boolean {
  return kind === 'cardholder' || kind === 'merchant';
}

/** The ledger flags of an account, from its id. */
export function bankAccountFlags(id: string): AccountFlags {
  return neverNegative(parseBankAccountId(id).kind) ? NEVER_NEGATIVE : NO_LIMIT;
}

/** The id of an account: deterministic, so a transfer names its accounts without a lookup. */
export function bankAccountId(kind: BankAccountKind, owner: string, currency: string): string {
  return `${kind}:${owner}:${currency}`;
}

/** The kind, owner and currency an account id names; throws on anything else. */
export function parseBankAccountId(id: string): { kind: BankAccountKind; owner: string; currency: string } {
  const m = /^([a-z]+):(.+):([A-Z]{3})$/.exec(id);
  const kind = BANK_ACCOUNT_KINDS.find((k) => k === m?.[1]);
  if (!m || !kind) throw new DomainError('ledger.invalid_transfer', { account: id, reason: 'not_an_account_id' });
  return { kind, owner: m[2]!, currency: m[3]! };
}

export interface BankTransfer extends LedgerTransfer<BankTransferKind> {
  /** The authorisation, refund or payout it records (for the operator's checks). */
  readonly ref: string | null;
}

/** The transfers of a card payment and a payout at the bank (the table above). */
export const bankTransfers = {
  opening: (accountId: string, currency: string, amount: bigint): BankTransfer => ({
    id: `opening_${accountId}`,
    debitAccountId: bankAccountId('opening', 'bank', currency),
    creditAccountId: bankAccountId('cardholder', accountId, currency),
    amount,
    currency,
    kind: 'opening',
    phase: 'single',
    pendingId: null,
    ref: accountId,
  }),
  hold: (a: CardPayment): BankTransfer => cardTransfer(a, `hold_${a.id}`, 'hold', 'pending', a.heldMinor, null),
  capture: (a: CardPayment, amount: bigint): BankTransfer =>
    cardTransfer(a, `capture_${a.id}`, 'capture', 'post', amount, `hold_${a.id}`),
  release: (a: CardPayment): BankTransfer =>
    cardTransfer(a, `release_${a.id}`, 'release', 'void', a.heldMinor, `hold_${a.id}`),
  refund: (a: CardPayment, refundId: string, amount: bigint): BankTransfer => ({
    ...cardTransfer(a, `refund_${refundId}`, 'refund', 'single', amount, null),
    debitAccountId: bankAccountId('settlement', a.accountId, a.currency),
    creditAccountId: bankAccountId('cardholder', a.accountId, a.currency),
    ref: refundId,
  }),
  /** A chargeback: the disputed amount back to the cardholder, from the payment's settlement part. */
  chargeback: (a: CardPayment, disputeRef: string, amount: bigint): BankTransfer => ({
    ...cardTransfer(a, `chargeback_${disputeRef}`, 'chargeback', 'single', amount, null),
    debitAccountId: bankAccountId('settlement', a.accountId, a.currency),
    creditAccountId: bankAccountId('cardholder', a.accountId, a.currency),
    ref: disputeRef,
  }),
  /** A chargeback undone (the merchant won after the cardholder was credited): the amount goes back. */
  chargebackReversal: (a: CardPayment, disputeRef: string, amount: bigint): BankTransfer => ({
    ...cardTransfer(a, `chargeback_reversal_${disputeRef}`, 'chargeback_reversal', 'single', amount, null),
    ref: disputeRef,
  }),
  /**
   * The part of a reversal the cardholder had already spent: the bank bears it from its equity, so the
   * gateway's settlement is made whole without overdrawing the cardholder.
   */
  chargebackWriteoff: (a: CardPayment, disputeRef: string, amount: bigint): BankTransfer => ({
    id: `chargeback_writeoff_${disputeRef}`,
    debitAccountId: bankAccountId('opening', 'bank', a.currency),
    creditAccountId: bankAccountId('settlement', a.accountId, a.currency),
    amount,
    currency: a.currency,
    kind: 'chargeback_writeoff',
    phase: 'single',
    pendingId: null,
    ref: disputeRef,
  }),
  payout: (p: { payoutId: string; merchantId: string; amount: bigint; currency: string }): BankTransfer => ({
    id: `payout_${p.payoutId}`,
    debitAccountId: bankAccountId('settlement', 'payouts', p.currency),
    creditAccountId: bankAccountId('merchant', p.merchantId, p.currency),
    amount: p.amount,
    currency: p.currency,
    kind: 'payout',
    phase: 'single',
    pendingId: null,
    ref: p.payoutId,
  }),
};

/** What the card payment transfers need of an authorisation (its hold is `heldMinor`). */
export interface CardPayment {
  readonly id: string;
  readonly accountId: string;
  readonly currency: string;
  readonly heldMinor: bigint;
}

function cardTransfer(
  a: CardPayment,
  id: string,
  kind: BankTransferKind,
  phase: TransferPhase,
  amount: bigint,
  pendingId: string | null,
): BankTransfer {
  return {
    id,
    debitAccountId: bankAccountId('cardholder', a.accountId, a.currency),
    creditAccountId: bankAccountId('settlement', a.accountId, a.currency),
    amount,
    currency: a.currency,
    kind,
    phase,
    pendingId,
    ref: a.id,
  };
}
