// Balance and hold updates on accounts, and the movements that book them. Every update is relative
// (`held + x`, `balance - x`) on a row the caller's command has serialised, and the table's checks
// refuse any write that would overdraw. Each also records its ledger transfer (domain/ledger.ts) in
// the same transaction: the account's `balance_minor` is its ledger account's posted credits less
// posted debits, and `held_minor` its pending debits (`ledger verify` checks that they agree).
import { and, eq, gte, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Money } from '../../core/money.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import { bankTransfers, type CardPayment } from '../domain/ledger.ts';
import type { AuthorizationRow } from './authorizations.ts';
import { recordBankTransfers } from './ledger.ts';
import { accounts, movements } from './tables.ts';

// Every authorisation places one: built once (builtOnce), the account, currency and amount its values.
const holdOn = builtOnce((on) => {
  const minor = slot('minor', accounts.heldMinor);
  return on
    .update(accounts)
    .set({ heldMinor: sql`${accounts.heldMinor} + ${minor}` })
    .where(
      and(
        eq(accounts.id, slot('accountId', accounts.id)),
        eq(accounts.currency, slot('currency', accounts.currency)),
        gte(sql`${accounts.balanceMinor} - ${accounts.heldMinor}`, minor),
      ),
    )
    .returning({ id: accounts.id })
    .prepare('place_hold');
});

/**
 * Reserves `amount` on the account if it is in that currency and has that much available: one
 * conditional update, whose row lock serialises concurrent holds on the account and whose condition
 * is re-checked on the locked row, so available never goes below zero. False when refused.
 */
export async function placeHold(
  tx: Executor,
  accountId: string,
  amount: Money,
  hold: { authorizationId: string; now: Date },
): Promise<boolean> {
  const held = await holdOn(tx).execute({ accountId, currency: amount.currency, minor: amount.minor });
  if (held.length === 0) return false;
  const payment = { id: hold.authorizationId, accountId, currency: amount.currency, heldMinor: amount.minor };
  // The hold's id is the new authorisation's: it cannot be recorded yet.
  await recordBankTransfers(tx, [bankTransfers.hold(payment)], hold.now, { unrecorded: true });
  return true;
}

/** What the ledger's card transfers need of an authorisation (one with an account). */
function cardPayment(row: AuthorizationRow): CardPayment {
  return { id: row.id, accountId: row.accountId!, currency: row.currency, heldMinor: row.heldMinor };
}

/** Releases what an authorisation holds on its account (the hold's pending transfer is voided). */
export async function releaseHold(tx: Executor, row: AuthorizationRow, now: Date): Promise<void> {
  if (row.heldMinor === 0n || row.accountId === null) return;
  await tx
    .update(accounts)
    .set({ heldMinor: sql`${accounts.heldMinor} - ${row.heldMinor}` })
    .where(eq(accounts.id, row.accountId));
  await recordBankTransfers(tx, [bankTransfers.release(cardPayment(row))], now);
}

/**
 * Changes the authorisation's account and books the movement: the update and the movement's insert
 * (from the update's row) as CTEs not yet run, so that both land or neither does, in a statement of
 * their own (moveAccount) or with the authorisation's own move (moveAuthorization's `along`).
 */
export function accountMove(
  tx: Executor,
  row: AuthorizationRow,
  change: { balanceMinor: bigint; releasedMinor: bigint },
  movement: { kind: 'capture' | 'refund'; description: string },
  now: Date,
) {
  const moved = tx.$with('moved').as(
    tx
      .update(accounts)
      .set({
        balanceMinor: sql`${accounts.balanceMinor} + ${change.balanceMinor}`,
        heldMinor: sql`${accounts.heldMinor} - ${change.releasedMinor}`,
      })
      .where(eq(accounts.id, row.accountId!))
      .returning({ id: accounts.id }),
  );
  const booked = tx.$with('booked').as(
    tx
      .insert(movements)
      .select(
        tx
          .select({
            id: sql`${newId('txn', now)}`.as('id'),
            accountId: moved.id,
            authorizationId: sql`${row.id}`.as('authorization_id'),
            kind: sql`${movement.kind}`.as('kind'),
            // Signed: debits negative, credits positive.
            amountMinor: sql`${change.balanceMinor}::bigint`.as('amount_minor'),
            currency: sql`${row.currency}`.as('currency'),
            description: sql`${movement.description}`.as('description'),
            createdAt: sql`${now.toISOString()}::timestamptz`.as('created_at'),
          })
          .from(moved),
      )
      .returning({ id: movements.id }),
  );
  return [moved, booked] as const;
}

/**
 * A capture's account move (accountMove): the balance goes down by `minor`, the whole hold is released
 * (the hold is posted), the debit booked as a movement. Its ledger transfer is captureTransfer's.
 */
export function captureMove(tx: Executor, row: AuthorizationRow, minor: bigint, now: Date) {
  return accountMove(
    tx,
    row,
    { balanceMinor: -minor, releasedMinor: row.heldMinor },
    { kind: 'capture', description: row.merchantName },
    now,
  );
}

/** Records a capture's ledger transfer (the hold posted for `minor`), in the capture's transaction. */
export async function captureTransfer(tx: Executor, row: AuthorizationRow, minor: bigint, now: Date): Promise<void> {
  await recordBankTransfers(tx, [bankTransfers.capture(cardPayment(row), minor)], now);
}

/** Credits a refund to the balance (a transfer back from the settlement with the gateway), booked as a movement. */
export async function creditRefund(
  tx: Executor,
  row: AuthorizationRow,
  refund: { id: string; minor: bigint },
  now: Date,
): Promise<void> {
  const [moved, booked] = accountMove(
    tx,
    row,
    { balanceMinor: refund.minor, releasedMinor: 0n },
    { kind: 'refund', description: `Refund: ${row.merchantName}` },
    now,
  );
  await tx.with(moved, booked).select({ id: booked.id }).from(booked);
  await recordBankTransfers(tx, [bankTransfers.refund(cardPayment(row), refund.id, refund.minor)], now);
}
