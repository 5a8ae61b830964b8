// The gateway pays a merchant: the bank credits the merchant's account at the bank (created on the
// first payout) from its settlement account with the gateway, one ledger transfer named by the payout's
// id — so the same payout asked again (a retry after a timeout or a crash) pays nothing twice, and the
// same id with another amount is refused. A merchant whose account is closed (BANK_PAYOUT_REFUSED_MERCHANTS)
// is refused, and nothing is written.
import { DomainError } from '../../core/errors.ts';
import type { Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { bankTransfers } from '../domain/ledger.ts';
import type { IssuerSettings } from '../storage/bank-settings.ts';
import { recordBankTransfers } from '../storage/ledger.ts';

export interface PayoutInput {
  readonly payoutId: string;
  readonly merchantId: string;
  readonly amount: Money;
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
  const written = await recordBankTransfers(
    tx,
    [
      bankTransfers.payout({
        payoutId: input.payoutId,
        merchantId: input.merchantId,
        amount: input.amount.minor,
        currency: input.amount.currency,
      }),
    ],
    clock.now(),
  );
  return { created: written.length > 0 };
}
