// The gateway pays a merchant: the bank credits the merchant's account at the bank (created on the
// first payout) from its settlement account with the gateway, one ledger transfer named by the payout's
// id — so the same payout asked again (a retry after a timeout or a crash) pays nothing twice, and the
// same id with another amount is refused. A merchant whose account is closed (BANK_PAYOUT_REFUSED_MERCHANTS)
// is refused, and nothing is written.
//
// A new payout is also refused when it is more than the bank holds for the gateway: its settlement
// position in the currency (card payments captured, less refunds, chargebacks and payouts already made).
// The bank does not know which merchant a card payment was for, so this bounds the gateway as a whole,
// not each merchant: a gateway whose books went wrong cannot make the bank pay out money it never
// received. New payouts of a currency take a lock and are checked one at a time; a refund committing at
// the same moment can still take the position below zero by its own amount.
import { sql } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import type { Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import { rows, type Executor } from '../../platform/db/database.ts';
import { bankTransfers } from '../domain/ledger.ts';
import type { IssuerSettings } from '../storage/bank-settings.ts';
import { recordBankTransfers } from '../storage/ledger.ts';

export interface PayoutInput {
  readonly payoutId: string;
  readonly merchantId: string;
  readonly amount: Money;
}

/**
 * What the bank holds for the gateway in `currency`, for a payout not recorded yet; undefined when the
 * payout is already recorded (a retry, answered by the ledger's own idempotency).
 */
async function settlementForNewPayout(tx: Executor, transferId: string, currency: string): Promise<bigint | undefined> {
  await rows(tx, sql`select pg_advisory_xact_lock(hashtext(${`bank:payouts:${currency}`}))`);
  const [row] = await rows<{ recorded: boolean; position: string }>(
    tx,
    sql`select exists (select 1 from bank_ledger_transfers where id = ${transferId}) as recorded,
               coalesce((select sum(credits_posted - debits_posted) from bank_ledger_accounts
                          where kind = 'settlement' and currency = ${currency}), 0)::text as position`,
  );
  return row!.recorded ? undefined : BigInt(row!.position);
}

/** Pays the payout (or finds it paid); `created` says whether this call wrote it. */
export async function receivePayout(
  tx: Executor,
  input: PayoutInput,
  settings: Pick<IssuerSettings, 'payoutRefusedMerchants'>,
  clock: Clock,
): Promise<{ created: boolean }> {
  if (settings.payoutRefusedMerchants?.includes(input.merchantId))
    throw new DomainError('payout.refused', { reason: 'account_closed' });
  const transfer = bankTransfers.payout({
    payoutId: input.payoutId,
    merchantId: input.merchantId,
    amount: input.amount.minor,
    currency: input.amount.currency,
  });
  const held = await settlementForNewPayout(tx, transfer.id, input.amount.currency);
  if (held !== undefined && input.amount.minor > held)
    throw new DomainError('payout.refused', { reason: 'exceeds_settlement' });
  const written = await recordBankTransfers(tx, [transfer], clock.now());
  return { created: written.length > 0 };
}
