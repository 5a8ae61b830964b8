/**
 * How a payment maps to transfers (pure). Every id is derived from the session or refund it records,
 * so recording the same step twice (a retried job, a replayed webhook, a crash and its repair) names
 * the same transfers and changes nothing.
 *
 *   authorisation approved   pending   settlement → pending           amount     auth_<session>
 *   capture                  post      settlement → pending           captured   post_<session>
 *                            single    pending → available            captured   release_<session>
 *                            single    available → fees               fee        fee_<session>
 *   void (refused, timed out) void     settlement → pending           amount     void_<session>
 *   refund recorded          single    available → refunds            refund     refund_<refund>
 *   refund done at the bank  single    refunds → settlement           refund     refund_paid_<refund>
 *
 * The capture and the void repeat the authorisation's pending transfer first: it is a no-op when it
 * exists (always, since the authorisation is recorded in the transaction that authorises), and it
 * keeps a session authorised before the ledger existed from failing its capture.
 */
import { DomainError } from '../../core/errors.ts';
import { accountId, type AccountKind } from './ledger.account.ts';
import type { Transfer } from './ledger.transfer.ts';

/** The fee the gateway takes per capture: fixed minor units plus basis points of the captured amount. */
export interface FeePolicy {
  readonly fixedMinor: bigint;
  readonly basisPoints: bigint;
}

export const NO_FEE: FeePolicy = { fixedMinor: 0n, basisPoints: 0n };

/**
 * Parses GATEWAY_FEE_PER_CAPTURE: `0` (none), `25` (25 minor units), `140bps` (1.40 %), or both,
 * `25+140bps`. Throws a message naming the accepted forms.
 */
export function parseFeePolicy(text: string): FeePolicy {
  const m = /^\s*(?:(\d{1,9})(?:\s*\+\s*(\d{1,5})\s*bps)?|(\d{1,5})\s*bps)\s*$/.exec(text);
  if (!m) throw new Error('must be minor units (25), basis points (140bps) or both (25+140bps)');
  const bps = BigInt(m[2] ?? m[3] ?? '0');
  if (bps > 10_000n) throw new Error('basis points must be at most 10000 (100 %)');
  return { fixedMinor: BigInt(m[1] ?? '0'), basisPoints: bps };
}

/** The fee on a captured amount: fixed + basis points rounded half up, never more than the amount itself. */
export function feeFor(captured: bigint, policy: FeePolicy): bigint {
  if (captured <= 0n) return 0n;
  const proportional = (captured * policy.basisPoints + 5_000n) / 10_000n;
  const fee = policy.fixedMinor + proportional;
  return fee > captured ? captured : fee;
}

/** A merchant's accounts in one currency, by kind. */
export function merchantAccounts(merchantId: string, currency: string): Record<AccountKind, string> {
  const id = (kind: AccountKind) => accountId(merchantId, currency, kind);
  return {
    pending: id('pending'),
    available: id('available'),
    refunds: id('refunds'),
    dispute_reserve: id('dispute_reserve'),
    settlement: id('settlement'),
    fees: id('fees'),
    paid_out: id('paid_out'),
  };
}

/** What the mapping needs of a session. */
export interface LedgerSession {
  readonly id: string;
  readonly merchantId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

function transfer(
  s: LedgerSession,
  fields: Pick<Transfer, 'id' | 'debitAccountId' | 'creditAccountId' | 'amount' | 'kind' | 'phase'> &
    Partial<Pick<Transfer, 'pendingId' | 'refundId'>>,
): Transfer {
  return { pendingId: null, refundId: null, ...fields, currency: s.currency, sessionId: s.id };
}

/** The authorisation's pending transfer: the card network owes the merchant's payment, reserved. */
export function authorizationTransfers(s: LedgerSession): Transfer[] {
  const a = merchantAccounts(s.merchantId, s.currency);
  return [
    transfer(s, {
      id: `auth_${s.id}`,
      debitAccountId: a.settlement,
      creditAccountId: a.pending,
      amount: s.amountMinor,
      kind: 'authorization',
      phase: 'pending',
    }),
  ];
}

/** The capture: post the reservation (`captured` ≤ the authorised amount), release it to available, take the fee. */
export function captureTransfers(s: LedgerSession, captured: bigint, fees: FeePolicy): Transfer[] {
  if (captured <= 0n || captured > s.amountMinor)
    throw new DomainError('ledger.invalid_transfer', { session: s.id, reason: 'capture_outside_authorised_amount' });
  const a = merchantAccounts(s.merchantId, s.currency);
  const [auth] = authorizationTransfers(s);
  const fee = feeFor(captured, fees);
  const out: Transfer[] = [
    auth!,
    transfer(s, {
      id: `post_${s.id}`,
      debitAccountId: a.settlement,
      creditAccountId: a.pending,
      amount: captured,
      kind: 'capture',
      phase: 'post',
      pendingId: auth!.id,
    }),
    transfer(s, {
      id: `release_${s.id}`,
      debitAccountId: a.pending,
      creditAccountId: a.available,
      amount: captured,
      kind: 'release',
      phase: 'single',
    }),
  ];
  if (fee > 0n)
    out.push(
      transfer(s, {
        id: `fee_${s.id}`,
        debitAccountId: a.available,
        creditAccountId: a.fees,
        amount: fee,
        kind: 'fee',
        phase: 'single',
      }),
    );
  return out;
}

/** The void (refused, or not acknowledged in time: the authorisation's expiry): the reservation is released. */
export function voidTransfers(s: LedgerSession): Transfer[] {
  const a = merchantAccounts(s.merchantId, s.currency);
  const [auth] = authorizationTransfers(s);
  return [
    auth!,
    transfer(s, {
      id: `void_${s.id}`,
      debitAccountId: a.settlement,
      creditAccountId: a.pending,
      amount: s.amountMinor,
      kind: 'void',
      phase: 'void',
      pendingId: auth!.id,
    }),
  ];
}

/** A refund recorded: the amount leaves the merchant's available balance for the refunds on their way. */
export function refundTransfers(s: LedgerSession, refund: { id: string; amountMinor: bigint }): Transfer[] {
  const a = merchantAccounts(s.merchantId, s.currency);
  return [
    transfer(s, {
      id: `refund_${refund.id}`,
      debitAccountId: a.available,
      creditAccountId: a.refunds,
      amount: refund.amountMinor,
      kind: 'refund',
      phase: 'single',
      refundId: refund.id,
    }),
  ];
}

/**
 * A refund carried out at the bank: the amount goes back through the card network to the cardholder
 * (after the refund's own transfer, a no-op once recorded, there for a refund recorded before the ledger).
 */
export function refundPaidTransfers(s: LedgerSession, refund: { id: string; amountMinor: bigint }): Transfer[] {
  const a = merchantAccounts(s.merchantId, s.currency);
  return [
    ...refundTransfers(s, refund),
    transfer(s, {
      id: `refund_paid_${refund.id}`,
      debitAccountId: a.refunds,
      creditAccountId: a.settlement,
      amount: refund.amountMinor,
      kind: 'refund_paid',
      phase: 'single',
      refundId: refund.id,
    }),
  ];
}
