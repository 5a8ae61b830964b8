// Payout rows and the queries a payout needs. `movePayout` is the one writer of `payouts.status`; a
// payout is inserted `pending`, in the transaction of its ledger transfer.
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { rows, type Executor } from '../../platform/db/database.ts';
import { accountId } from '../domain/ledger.account.ts';
import { payoutMachine, type PayoutEvent } from '../domain/payout.machine.ts';
import { payoutItems, payouts, type PayoutItemRow, type PayoutRow } from './payout-tables.ts';

/** Each merchant and currency whose available balance is positive (candidates for a payout). */
export async function payableBalances(
  db: Executor,
  merchantId?: string,
): Promise<{ merchantId: string; currency: string }[]> {
  const found = await rows<{ merchant_id: string; currency: string }>(
    db,
    sql`select merchant_id, currency from ledger_accounts
         where kind = 'available' and credits_posted - debits_posted > 0
           ${merchantId === undefined ? sql`` : sql`and merchant_id = ${merchantId}`}
         order by merchant_id, currency`,
  );
  return found.map((r) => ({ merchantId: r.merchant_id, currency: r.currency }));
}

/**
 * Locks the merchant's available account and returns what it holds now. Taken first in a payout's
 * transaction: a capture or a refund in flight (which writes this account) waits for the payout or
 * the payout for it, so the amount and the payments read after it agree with each other.
 */
export async function lockedAvailable(tx: Executor, merchantId: string, currency: string): Promise<bigint> {
  const [row] = await rows<{ available: string }>(
    tx,
    sql`select credits_posted - debits_posted as available from ledger_accounts
         where id = ${accountId(merchantId, currency, 'available')} for update`,
  );
  return row ? BigInt(row.available) : 0n;
}

/** The captured payments in the merchant's available balance that no payout (pending or paid) covers yet. */
export async function uncoveredCaptures(
  tx: Executor,
  merchantId: string,
  currency: string,
): Promise<{ sessionId: string; capturedMinor: bigint; feeMinor: bigint }[]> {
  const found = await rows<{ session_id: string; captured: string; fee: string }>(
    tx,
    sql`select r.session_id, r.amount_minor as captured, coalesce(f.amount_minor, 0) as fee
          from ledger_transfers r
          left join ledger_transfers f on f.id = 'fee_' || r.session_id
         where r.kind = 'release' and r.credit_account_id = ${accountId(merchantId, currency, 'available')}
           and not exists (select 1 from payout_items i join payouts p on p.id = i.payout_id
                            where i.session_id = r.session_id and p.status <> 'failed')
         order by r.created_at, r.session_id`,
  );
  return found.map((r) => ({ sessionId: r.session_id, capturedMinor: BigInt(r.captured), feeMinor: BigInt(r.fee) }));
}

/** Inserts a payout in `pending` with the payments it covers. */
export async function insertPayout(
  tx: Executor,
  p: { id: string; merchantId: string; currency: string; amountMinor: bigint; createdAt: Date },
  items: readonly { sessionId: string; capturedMinor: bigint; feeMinor: bigint }[],
): Promise<PayoutRow> {
  const [row] = await tx
    .insert(payouts)
    .values({ ...p, status: 'pending', updatedAt: p.createdAt })
    .returning();
  if (items.length > 0) await tx.insert(payoutItems).values(items.map((i) => ({ payoutId: p.id, ...i })));
  return row!;
}

/** Moves a payout by its machine (the one writer of payouts.status). */
export async function movePayout(
  tx: Executor,
  payout: PayoutRow,
  event: PayoutEvent,
  fields: { now: Date; failureCode?: string },
): Promise<PayoutRow> {
  const { state } = payoutMachine.apply(payout.status, event);
  const [row] = await tx
    .update(payouts)
    .set({
      status: state,
      updatedAt: fields.now,
      ...(state === 'paid' ? { arrivedAt: fields.now } : {}),
      ...(fields.failureCode ? { failureCode: fields.failureCode } : {}),
    })
    .where(eq(payouts.id, payout.id))
    .returning();
  return row!;
}

/** The payout, locked for the caller's transaction. */
export async function lockPayout(tx: Executor, id: string): Promise<PayoutRow | undefined> {
  const [row] = await tx.select().from(payouts).where(eq(payouts.id, id)).for('update');
  return row;
}

/** A payout of this merchant (another merchant's id finds nothing). */
export async function findPayout(db: Executor, merchantId: string, id: string): Promise<PayoutRow | undefined> {
  const [row] = await db
    .select()
    .from(payouts)
    .where(and(eq(payouts.id, id), eq(payouts.merchantId, merchantId)));
  return row;
}

/** The merchant's payouts, newest first, `limit` of them before `before` (an id) when given. */
export async function listPayouts(
  db: Executor,
  merchantId: string,
  page: { limit: number; before?: string | undefined },
): Promise<PayoutRow[]> {
  return db
    .select()
    .from(payouts)
    .where(and(eq(payouts.merchantId, merchantId), page.before ? lt(payouts.id, page.before) : undefined))
    .orderBy(desc(payouts.id))
    .limit(page.limit);
}

/** The payments a payout covers. */
export function itemsOf(db: Executor, payoutId: string): Promise<PayoutItemRow[]> {
  return db.select().from(payoutItems).where(eq(payoutItems.payoutId, payoutId)).orderBy(payoutItems.sessionId);
}

/** Payouts still waiting for the bank's answer (a crash between the transfer and the bank call leaves some). */
export async function pendingPayoutIds(db: Executor): Promise<string[]> {
  const found = await db.select({ id: payouts.id }).from(payouts).where(eq(payouts.status, 'pending'));
  return found.map((r) => r.id);
}
