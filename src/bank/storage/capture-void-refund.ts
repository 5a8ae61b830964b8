// The gateway's follow-ups on an authorisation: capture (the hold becomes a debit movement), void
// (the hold is released) and refund (a credit movement, never more in total than was captured).
// Each locks the authorisation row first and is idempotent: a repeat returns the same outcome.
import { and, eq, sql } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { authorizationMachine, type AuthorizationStatus } from '../domain/authorization.machine.ts';
import { accounts, authorizations, bankRefunds, movements } from './bank.schema.ts';
import type { AuthorizationRow } from './authorization-view.ts';
import { closeApprovalRequest, lockAuthorization, releaseHold } from './settle-pending.ts';

async function locked(tx: Executor, id: string): Promise<AuthorizationRow> {
  const row = await lockAuthorization(tx, id);
  if (!row) throw new DomainError('not_found');
  return row;
}

function sameCurrency(row: AuthorizationRow, amount: Money): void {
  if (amount.currency !== row.currency) throw new DomainError('money.currency_mismatch');
  if (amount.minor <= 0n) throw new DomainError('money.invalid', { reason: 'not_positive' });
}

/** Captures up to the authorised amount; the rest of the hold is released. */
export async function captureAuthorization(tx: Executor, id: string, amount: Money, clock: Clock): Promise<AuthorizationRow> {
  const row = await locked(tx, id);
  if (row.status === 'captured' || row.status === 'refunded') return row;
  sameCurrency(row, amount);
  if (amount.minor > row.amountMinor) throw new DomainError('validation.failed', { reason: 'capture_exceeds_authorized' });
  const next = authorizationMachine.apply(row.status as AuthorizationStatus, 'capture');
  const now = clock.now();
  await tx
    .update(accounts)
    .set({
      balanceMinor: sql`${accounts.balanceMinor} - ${amount.minor}`,
      heldMinor: sql`${accounts.heldMinor} - ${row.heldMinor}`,
    })
    .where(eq(accounts.id, row.accountId!));
  await tx.insert(movements).values({
    id: newId('txn', now),
    accountId: row.accountId!,
    authorizationId: row.id,
    kind: 'capture',
    amountMinor: -amount.minor,
    currency: row.currency,
    description: row.merchantName,
    createdAt: now,
  });
  const [updated] = await tx
    .update(authorizations)
    .set({ status: next.state, heldMinor: 0n, capturedMinor: amount.minor, updatedAt: now })
    .where(eq(authorizations.id, row.id))
    .returning();
  return updated!;
}

/** Voids an approved (or still pending) authorisation: the hold is released, nothing is debited. */
export async function voidAuthorization(tx: Executor, id: string, clock: Clock): Promise<AuthorizationRow> {
  const row = await locked(tx, id);
  if (row.status === 'voided') return row;
  const next = authorizationMachine.apply(row.status as AuthorizationStatus, 'void');
  const now = clock.now();
  await releaseHold(tx, row);
  const [updated] = await tx
    .update(authorizations)
    .set({ status: next.state, heldMinor: 0n, updatedAt: now, decidedAt: row.decidedAt ?? now })
    .where(eq(authorizations.id, row.id))
    .returning();
  // A void while the cardholder was still asked withdraws the question from the app.
  if (row.status === 'pending') await closeApprovalRequest(tx, row, 'cancel', clock);
  return updated!;
}

/** Refunds part or all of a capture; idempotent on (authorisation, refund_ref). */
export async function refundAuthorization(
  tx: Executor,
  input: { id: string; refundRef: string; amount: Money },
  clock: Clock,
): Promise<{ refundId: string; authorization: AuthorizationRow }> {
  const row = await locked(tx, input.id);
  const [existing] = await tx
    .select()
    .from(bankRefunds)
    .where(and(eq(bankRefunds.authorizationId, row.id), eq(bankRefunds.refundRef, input.refundRef)));
  if (existing) return { refundId: existing.id, authorization: row };
  sameCurrency(row, input.amount);
  if (row.status !== 'captured' && row.status !== 'refunded') authorizationMachine.apply(row.status as AuthorizationStatus, 'refund');
  if (row.refundedMinor + input.amount.minor > row.capturedMinor) {
    throw new DomainError('refund.exceeds_captured', {
      captured: row.capturedMinor.toString(),
      refunded: row.refundedMinor.toString(),
    });
  }
  const next = authorizationMachine.apply(row.status as AuthorizationStatus, 'refund');
  const now = clock.now();
  const refundId = newId('bref', now);
  await tx.insert(bankRefunds).values({
    id: refundId,
    authorizationId: row.id,
    refundRef: input.refundRef,
    amountMinor: input.amount.minor,
    currency: row.currency,
    createdAt: now,
  });
  await tx
    .update(accounts)
    .set({ balanceMinor: sql`${accounts.balanceMinor} + ${input.amount.minor}` })
    .where(eq(accounts.id, row.accountId!));
  await tx.insert(movements).values({
    id: newId('txn', now),
    accountId: row.accountId!,
    authorizationId: row.id,
    kind: 'refund',
    amountMinor: input.amount.minor,
    currency: row.currency,
    description: `Refund: ${row.merchantName}`,
    createdAt: now,
  });
  const [updated] = await tx
    .update(authorizations)
    .set({ status: next.state, refundedMinor: row.refundedMinor + input.amount.minor, updatedAt: now })
    .where(eq(authorizations.id, row.id))
    .returning();
  return { refundId, authorization: updated! };
}
