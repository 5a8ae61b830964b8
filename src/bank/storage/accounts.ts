// Balance and hold updates on accounts, and the movements that book them. Every update is relative
// (`held + x`, `balance - x`) on a row the caller's command has serialised, and the table's checks
// refuse any write that would overdraw.
import { and, eq, gte, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Money } from '../../core/money.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { AuthorizationRow } from './authorizations.ts';
import { accounts, movements } from './tables.ts';

/**
 * Reserves `amount` on the account if it is in that currency and has that much available: one
 * conditional update, whose row lock serialises concurrent holds on the account and whose condition
 * is re-checked on the locked row, so available never goes below zero. False when refused.
 */
export async function placeHold(tx: Executor, accountId: string, amount: Money): Promise<boolean> {
  const held = await tx
    .update(accounts)
    .set({ heldMinor: sql`${accounts.heldMinor} + ${amount.minor}` })
    .where(
      and(
        eq(accounts.id, accountId),
        eq(accounts.currency, amount.currency),
        gte(sql`${accounts.balanceMinor} - ${accounts.heldMinor}`, amount.minor),
      ),
    )
    .returning({ id: accounts.id });
  return held.length > 0;
}

/** The account's currency, if the account exists. */
export async function accountCurrency(executor: Executor, accountId: string): Promise<string | undefined> {
  const [account] = await executor
    .select({ currency: accounts.currency })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  return account?.currency;
}

/** Releases what an authorisation holds on its account. */
export async function releaseHold(tx: Executor, row: AuthorizationRow): Promise<void> {
  if (row.heldMinor === 0n || row.accountId === null) return;
  await tx
    .update(accounts)
    .set({ heldMinor: sql`${accounts.heldMinor} - ${row.heldMinor}` })
    .where(eq(accounts.id, row.accountId));
}

/** Debits a capture: the balance goes down by `minor`, and the whole hold is released. */
export async function debitCapture(tx: Executor, row: AuthorizationRow, minor: bigint): Promise<void> {
  await tx
    .update(accounts)
    .set({
      balanceMinor: sql`${accounts.balanceMinor} - ${minor}`,
      heldMinor: sql`${accounts.heldMinor} - ${row.heldMinor}`,
    })
    .where(eq(accounts.id, row.accountId!));
}

/** Credits a refund to the balance. */
export async function creditRefund(tx: Executor, row: AuthorizationRow, minor: bigint): Promise<void> {
  await tx
    .update(accounts)
    .set({ balanceMinor: sql`${accounts.balanceMinor} + ${minor}` })
    .where(eq(accounts.id, row.accountId!));
}

/** Books a movement on the authorisation's account (signed: debits negative, credits positive). */
export async function recordMovement(
  tx: Executor,
  row: AuthorizationRow,
  movement: { kind: 'capture' | 'refund'; amountMinor: bigint; description: string },
  now: Date,
): Promise<void> {
  await tx.insert(movements).values({
    id: newId('txn', now),
    accountId: row.accountId!,
    authorizationId: row.id,
    kind: movement.kind,
    amountMinor: movement.amountMinor,
    currency: row.currency,
    description: movement.description,
    createdAt: now,
  });
}
