// A payout run: for each merchant and currency with a positive available balance, one transaction
// writes the payout (pending), the payments it covers, its ledger transfer (available → paid_out) and
// the job that makes sure the bank hears of it; then the bank is asked at once (send-payout.ts). A
// crash after the commit leaves a pending payout that the job, or the next run, sends: the bank is
// idempotent by the payout's id.
import { newId } from '../../core/ids.ts';
import { enqueue } from '../../platform/jobs/enqueue.ts';
import { payoutAmount, payoutTransfers } from '../domain/ledger.payout.ts';
import { SEND_PAYOUT_TASK } from '../jobs/task-names.ts';
import { postTransfers } from '../storage/ledger.ts';
import {
  insertPayout,
  lockedAvailable,
  payableBalances,
  pendingPayoutIds,
  uncoveredCaptures,
} from '../storage/payouts.ts';
import type { PayoutRow } from '../storage/payout-tables.ts';
import type { GatewayDeps } from './deps.ts';
import { sendPayout } from './send-payout.ts';

type Deps = Pick<GatewayDeps, 'database' | 'issuer' | 'clock' | 'log'>;

/** Writes one merchant's payout in one currency, or nothing when nothing is available. */
export async function writePayout(deps: Deps, merchantId: string, currency: string): Promise<PayoutRow | null> {
  return deps.database.transaction(async (tx) => {
    const amount = payoutAmount(await lockedAvailable(tx, merchantId, currency));
    if (amount === 0n) return null;
    const now = deps.clock.now();
    const id = newId('po', now);
    const items = await uncoveredCaptures(tx, merchantId, currency);
    const row = await insertPayout(tx, { id, merchantId, currency, amountMinor: amount, createdAt: now }, items);
    // The safety net, due later: runs only if the call below does not reach the bank.
    await enqueue(
      tx,
      {
        task: SEND_PAYOUT_TASK,
        payload: { payoutId: id },
        key: `payout:${id}`,
        runAt: new Date(now.getTime() + 30_000),
      },
      deps.clock,
    );
    await postTransfers(tx, payoutTransfers(row), now);
    return row;
  });
}

/**
 * Pays out every positive available balance (one merchant's only, when `merchantId` is given), then
 * sends every payout still pending (this run's, and any a crash left behind). Returns the payouts written.
 */
export async function runPayouts(deps: Deps, options: { merchantId?: string } = {}): Promise<PayoutRow[]> {
  const written: PayoutRow[] = [];
  for (const { merchantId, currency } of await payableBalances(deps.database.db, options.merchantId)) {
    const row = await writePayout(deps, merchantId, currency);
    if (row) written.push(row);
  }
  const pending = options.merchantId ? written.map((p) => p.id) : await pendingPayoutIds(deps.database.db);
  for (const id of pending) {
    try {
      await sendPayout(deps, id);
    } catch (err) {
      deps.log?.warn({ payoutId: id, err }, 'payout not sent to the bank; the job will retry');
    }
  }
  return written;
}
