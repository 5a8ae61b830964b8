// The gateway refunds part or all of a capture: a credit movement, never more in total than was
// captured. Idempotent on (authorisation, refund_ref): a repeat returns the first refund.
import { and, eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { authorizationMachine, type AuthorizationStatus } from '../domain/authorization.machine.ts';
import { creditRefund } from '../storage/accounts.ts';
import type { AuthorizationRow } from '../storage/authorizations.ts';
import { bankRefunds } from '../storage/tables.ts';
import { moveAuthorization } from './authorization-status.ts';
import { checkAmount, lockedAuthorization } from './locked-authorization.ts';

/** Refunds part or all of a capture; idempotent on (authorisation, refund_ref). */
export async function refundAuthorization(
  tx: Executor,
  input: { id: string; refundRef: string; amount: Money },
  clock: Clock,
): Promise<{ refundId: string; authorization: AuthorizationRow }> {
  const row = await lockedAuthorization(tx, input.id);
  const [existing] = await tx
    .select()
    .from(bankRefunds)
    .where(and(eq(bankRefunds.authorizationId, row.id), eq(bankRefunds.refundRef, input.refundRef)));
  if (existing) return { refundId: existing.id, authorization: row };
  checkAmount(row, input.amount);
  // An authorisation never captured is refused as an illegal transition before any amount check.
  authorizationMachine.apply(row.status as AuthorizationStatus, 'refund');
  if (row.refundedMinor + input.amount.minor > row.capturedMinor) {
    throw new DomainError('refund.exceeds_captured', {
      captured: row.capturedMinor.toString(),
      refunded: row.refundedMinor.toString(),
    });
  }
  const now = clock.now();
  const updated = await moveAuthorization(tx, row, 'refund', {
    refundedMinor: row.refundedMinor + input.amount.minor,
    updatedAt: now,
  });
  const refundId = newId('bref', now);
  await tx.insert(bankRefunds).values({
    id: refundId,
    authorizationId: row.id,
    refundRef: input.refundRef,
    amountMinor: input.amount.minor,
    currency: row.currency,
    createdAt: now,
  });
  await creditRefund(tx, row, { id: refundId, minor: input.amount.minor }, now);
  return { refundId, authorization: updated };
}
