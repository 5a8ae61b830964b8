// A pending payout is paid at the bank (inline after it is written, by its job, and by the next payout
// run, until the bank has answered): paid → `paid`; refused → `failed`, and the money goes back to the
// merchant's available balance by a new transfer (paid_out → available) in the same transaction. The
// bank is idempotent by the payout's id, so asking again after a crash pays nothing twice.
import { DomainError } from '../../core/errors.ts';
import { money, type Currency } from '../../core/money.ts';
import { payoutReversalTransfers } from '../domain/ledger.payout.ts';
import type { PayoutOutcome } from '../issuer/issuer.port.ts';
import { postTransfers } from '../storage/ledger.ts';
import { lockPayout, movePayout } from '../storage/payouts.ts';
import type { PayoutRow } from '../storage/payout-tables.ts';
import type { GatewayDeps } from './deps.ts';

/** Sends the payout to the bank if it is still pending, and records the bank's answer. */
export async function sendPayout(
  deps: Pick<GatewayDeps, 'database' | 'issuer' | 'clock'>,
  payoutId: string,
): Promise<PayoutRow> {
  const { database } = deps;
  const p = await database.transaction((tx) => lockPayout(tx, payoutId));
  if (!p) throw new DomainError('not_found', { resource: 'payout' });
  if (p.status !== 'pending') return p;
  if (!deps.issuer.payout) throw new DomainError('upstream.unavailable', { upstream: 'bank', reason: 'no_payouts' });
  const outcome: PayoutOutcome = await deps.issuer.payout({
    payoutId: p.id,
    merchantId: p.merchantId,
    amount: money(p.amountMinor, p.currency as Currency),
  });
  return database.transaction(async (tx) => {
    const locked = (await lockPayout(tx, payoutId))!;
    // The inline call, the job and a run may all have reached the bank: the first to get here records it.
    if (locked.status !== 'pending') return locked;
    const now = deps.clock.now();
    if (outcome.status === 'paid') return movePayout(tx, locked, 'bank_paid', { now });
    const failed = await movePayout(tx, locked, 'bank_refused', { now, failureCode: outcome.code });
    await postTransfers(tx, payoutReversalTransfers(failed), now);
    return failed;
  });
}
