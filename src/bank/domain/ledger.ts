/**
 * The bank's books, the same model as the gateway's (TigerBeetle's accounts and transfers): an account
 * holds four running totals — debits and credits, each pending and posted — that only transfers move;
 * a transfer debits one account and credits another for the same positive amount in one currency, is
 * immutable, and is named by an id that is its idempotency key (the same id again with the same fields
 * is a no-op, with other fields an error, ledger.transfer_exists).
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
 *   payout                 single   settlement (payouts) → merchant   payout_<po>
 *   opening balance        single   opening → cardholder      opening_<account>
 */
import { DomainError } from '../../core/errors.ts';

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
] as const;
export type BankTransferKind = (typeof BANK_TRANSFER_KINDS)[number];

export type BankTransferPhase = 'single' | 'pending' | 'post' | 'void';

/** Whether an account of this kind must never go negative (debits never exceed posted credits). */
export function neverNegative(kind: BankAccountKind): boolean {
  return kind === 'cardholder' || kind === 'merchant';
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

export interface BankTransfer {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly kind: BankTransferKind;
  readonly phase: BankTransferPhase;
  /** The pending transfer a post or void resolves; null otherwise. */
  readonly pendingId: string | null;
  /** The authorisation, refund or payout it records (for the operator's checks). */
  readonly ref: string | null;
}

export interface Totals {
  readonly debitsPending: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPending: bigint;
  readonly creditsPosted: bigint;
}

const ZERO: Totals = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };

function invalid(t: BankTransfer, reason: string): DomainError {
  return new DomainError('ledger.invalid_transfer', { transfer: t.id, reason });
}

const SAME_FIELDS = [
  'debitAccountId',
  'creditAccountId',
  'amount',
  'currency',
  'kind',
  'phase',
  'pendingId',
  'ref',
] as const;

/**
 * Decides a submitted transfer: false when the same transfer exists (nothing to write); otherwise it
 * must balance (two accounts of its currency, a positive amount) and a post or void must name an
 * unresolved pending transfer between the same accounts (a post at most its amount, a void all of it).
 */
export function decideBankTransfer(
  t: BankTransfer,
  ctx: {
    existing: BankTransfer | undefined;
    pending: { transfer: BankTransfer; resolvedBy: string | null } | undefined;
  },
): boolean {
  if (ctx.existing) {
    if (SAME_FIELDS.some((f) => ctx.existing![f] !== t[f]))
      throw new DomainError('ledger.transfer_exists', { transfer: t.id });
    return false;
  }
  if (t.amount <= 0n) throw invalid(t, 'amount_must_be_positive');
  if (t.debitAccountId === t.creditAccountId) throw invalid(t, 'same_account');
  for (const a of [t.debitAccountId, t.creditAccountId])
    if (parseBankAccountId(a).currency !== t.currency) throw invalid(t, 'currency_differs_from_account');
  if (t.phase === 'single' || t.phase === 'pending') {
    if (t.pendingId !== null) throw invalid(t, 'pending_id_on_non_resolving_transfer');
    return true;
  }
  const p = ctx.pending;
  if (!p || p.transfer.id !== t.pendingId || p.transfer.phase !== 'pending')
    throw invalid(t, 'pending_transfer_not_found');
  if (p.resolvedBy !== null)
    throw new DomainError('ledger.pending_resolved', { transfer: t.id, pending: p.transfer.id, by: p.resolvedBy });
  if (p.transfer.debitAccountId !== t.debitAccountId || p.transfer.creditAccountId !== t.creditAccountId)
    throw invalid(t, 'accounts_differ_from_pending');
  if (t.phase === 'post' && t.amount > p.transfer.amount) throw invalid(t, 'exceeds_pending_amount');
  if (t.phase === 'void' && t.amount !== p.transfer.amount) throw invalid(t, 'void_amount_differs_from_pending');
  return true;
}

/** How a written transfer moves its two accounts (for a post or void, `pendingAmount` is released). */
export function bankTransferDeltas(t: BankTransfer, pendingAmount: bigint): { debit: Totals; credit: Totals } {
  const release = t.phase === 'post' || t.phase === 'void' ? -pendingAmount : 0n;
  const posted = t.phase === 'single' || t.phase === 'post' ? t.amount : 0n;
  const reserved = t.phase === 'pending' ? t.amount : release;
  return {
    debit: { ...ZERO, debitsPending: reserved, debitsPosted: posted },
    credit: { ...ZERO, creditsPending: reserved, creditsPosted: posted },
  };
}

/** Adds `delta` to `b`, refusing (ledger.limit_exceeded) what a never-negative account forbids. */
export function applyBankDelta(account: { id: string; kind: BankAccountKind }, b: Totals, d: Totals): Totals {
  const next: Totals = {
    debitsPending: b.debitsPending + d.debitsPending,
    debitsPosted: b.debitsPosted + d.debitsPosted,
    creditsPending: b.creditsPending + d.creditsPending,
    creditsPosted: b.creditsPosted + d.creditsPosted,
  };
  if (neverNegative(account.kind) && next.debitsPending + next.debitsPosted > next.creditsPosted)
    throw new DomainError('ledger.limit_exceeded', { account: account.id, reason: 'debits_exceed_credits' });
  return next;
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
  phase: BankTransferPhase,
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
