// The gateway captures an authorisation: the hold becomes a debit movement of the captured amount
// (at most the authorised one) and the rest of the hold is released. Idempotent: a repeat returns
// the authorisation as it is.
import { DomainError } from '../../core/errors.ts';
import type { Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { captureMove, captureTransfer } from '../storage/accounts.ts';
import type { AuthorizationRow } from '../storage/authorizations.ts';
import { moveAuthorization } from './authorization-status.ts';
import { checkAmount, lockedAuthorization } from './locked-authorization.ts';

/** Captures up to the authorised amount; the rest of the hold is released. */
export async function captureAuthorization(
  tx: Executor,
  id: string,
  amount: Money,
  clock: Clock,
): Promise<AuthorizationRow> {
  const row = await lockedAuthorization(tx, id);
  if (row.status === 'captured' || row.status === 'refunded') return row;
  checkAmount(row, amount);
  if (amount.minor > row.amountMinor)
    throw new DomainError('validation.failed', { reason: 'capture_exceeds_authorized' });
  const now = clock.now();
  // The authorisation's move and the account's (its balance, its hold, the movement): one statement.
  const updated = await moveAuthorization(
    tx,
    row,
    'capture',
    { heldMinor: 0n, capturedMinor: amount.minor, updatedAt: now },
    captureMove(tx, row, amount.minor, now),
  );
  await captureTransfer(tx, row, amount.minor, now);
  return updated;
}
