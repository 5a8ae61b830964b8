// The money of a chargeback at the bank, in one place: when a dispute opens the cardholder gets a
// provisional credit of the disputed amount from the bank's settlement with the gateway; if the
// cardholder wins (the dispute is `lost` for the merchant) it stands; if the merchant wins it is taken
// back. Each is a transfer in the bank's ledger (settlement -> cardholder, and back), written with the
// account's balance and the statement's movement in the decision's transaction.
import { eq, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import { bankTransfers } from '../domain/ledger.ts';
import type { Executor } from '../../platform/db/database.ts';
import { recordBankTransfers } from '../storage/ledger.ts';
import { accounts, movements } from '../storage/tables.ts';

interface DisputeMoney {
  readonly id: string;
  readonly authorizationId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

async function book(
  tx: Executor,
  accountId: string,
  d: DisputeMoney,
  kind: 'dispute' | 'dispute_reversal',
  amountMinor: bigint,
  description: string,
  now: Date,
): Promise<void> {
  await tx
    .update(accounts)
    .set({ balanceMinor: sql`${accounts.balanceMinor} + ${amountMinor}` })
    .where(sql`${accounts.id} = ${accountId}`);
  const payment = { id: d.authorizationId, accountId, currency: d.currency, heldMinor: 0n };
  const transfer =
    kind === 'dispute'
      ? bankTransfers.chargeback(payment, d.id, amountMinor)
      : bankTransfers.chargebackReversal(payment, d.id, -amountMinor);
  await recordBankTransfers(tx, [transfer], now);
  await tx.insert(movements).values({
    id: newId('txn', now),
    accountId,
    authorizationId: d.authorizationId,
    kind,
    amountMinor,
    currency: d.currency,
    description,
    createdAt: now,
  });
}

/** The dispute opened: the cardholder is credited the disputed amount, provisionally. */
export async function creditChargeback(
  tx: Executor,
  accountId: string,
  d: DisputeMoney,
  merchantName: string,
  now: Date,
): Promise<void> {
  await book(tx, accountId, d, 'dispute', d.amountMinor, `Dispute credit (provisional): ${merchantName}`, now);
}

/**
 * The dispute closed. Lost by the merchant: the credit stands (nothing to book). Won by the merchant:
 * the credit is taken back, as far as the account's available balance allows — the cardholder may have
 * spent it meanwhile, and an account never goes negative here. What cannot be taken back the bank bears
 * (a write-off from its equity), so the gateway's settlement is made whole and the decision always
 * completes: before, a spent credit failed the decision's transaction and its job retried forever.
 * Returns what was taken back from the cardholder.
 */
export async function settleChargeback(
  tx: Executor,
  accountId: string,
  d: DisputeMoney,
  outcome: 'won' | 'lost',
  merchantName: string,
  now: Date,
): Promise<bigint> {
  if (outcome === 'lost') return 0n;
  const [account] = await tx
    .select({ balanceMinor: accounts.balanceMinor, heldMinor: accounts.heldMinor })
    .from(accounts)
    .where(eq(accounts.id, accountId))
    .for('update');
  const available = account ? account.balanceMinor - account.heldMinor : 0n;
  const taken = available < d.amountMinor ? (available > 0n ? available : 0n) : d.amountMinor;
  if (taken > 0n) {
    const partly = taken < d.amountMinor ? ' (as far as the balance allowed)' : '';
    await book(
      tx,
      accountId,
      d,
      'dispute_reversal',
      -taken,
      `Dispute decided for ${merchantName}: credit reversed${partly}`,
      now,
    );
  }
  if (taken < d.amountMinor) {
    const payment = { id: d.authorizationId, accountId, currency: d.currency, heldMinor: 0n };
    await recordBankTransfers(tx, [bankTransfers.chargebackWriteoff(payment, d.id, d.amountMinor - taken)], now);
  }
  return taken;
}
